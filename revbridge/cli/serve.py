"""``revbridge serve``: the HTTP API v1 (and its webhooks) on one port.

The policy file is optional: without it the API serves reads, events and exception
actions, but neither Stripe nor CRM webhooks nor ownership checks, and says so when it
starts. A policy named with ``--policy`` must exist and be valid. With it, CRM change
pushes start the deals' flows by enqueueing them on the ``deals`` queue of the workers
(this process runs no workflow). The app itself is wired by
:func:`revbridge.app.build_api`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import typer
from rich.console import Console

from revbridge.config.policy import Policy
from revbridge.config.settings import Settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def serve(
    host: str | None = typer.Option(None, help="Interface (default REVBRIDGE_API_HOST)."),
    port: int | None = typer.Option(None, help="Port (default REVBRIDGE_API_PORT, 8700)."),
    policy: Path | None = typer.Option(None, help="Policy file (default REVBRIDGE_POLICY_FILE)."),
) -> None:
    """Serve the HTTP API until interrupted."""
    import uvicorn

    from revbridge.app import build_api
    from revbridge.cli.database import open_reachable
    from revbridge.observability.logging import configure_logging
    from revbridge.observability.tracing import configure_tracing

    settings = Settings()
    configure_logging(settings.log_level)
    configure_tracing(settings)  # no-op unless an OTLP endpoint is configured
    loaded = _policy(policy, settings)
    engine = open_reachable(settings)
    app = build_api(settings, engine, loaded, notice=lambda text: out.print(text, markup=False))
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    listener = _listen(bind_host, bind_port)
    served = policy or settings.policy_file if loaded is not None else "none"
    out.print(
        f"revbridge API on http://{bind_host}:{bind_port}/v1, console on "
        f"http://{bind_host}:{bind_port}/console/ (policy: {served})",
        markup=False,
    )
    # uvicorn's loggers go through revbridge's handler (request lines never carry headers)
    config = uvicorn.Config(
        app, host=bind_host, port=bind_port, log_config=None, proxy_headers=False
    )
    uvicorn.Server(config).run(sockets=[listener])


def _policy(given: Path | None, settings: Settings) -> Policy | None:
    """The policy to serve: ``--policy`` must name a valid file; without it the settings'
    file is loaded when it exists, and its absence is said (the API then runs without)."""
    from revbridge.cli.config import require_policy

    if given is not None:
        return require_policy(given)
    if settings.policy_file.exists():
        return require_policy(settings.policy_file)
    err.print(
        f"no policy file {settings.policy_file}: serving without a policy (no Stripe or CRM "
        "webhooks, no POST /v1/orders); pass --policy FILE to serve one",
        markup=False,
    )
    return None


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is announced: a busy port is one
    sentence, not a server that starts and then fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise typer.TyperException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(another revbridge serve? choose another with --port)"
        ) from None
    return sock
