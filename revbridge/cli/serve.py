"""``revbridge serve``: the HTTP API v1 (and its webhooks) on one port.

The policy file is optional: without it the API serves reads, events and exception
actions, but neither Stripe nor CRM webhooks nor ownership checks. With it, CRM change
pushes start the deals' flows by enqueueing them on the ``deals`` queue of the workers
(through a DBOS client: this process runs no workflow).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from revbridge.canonical import ExternalRef
from revbridge.config.settings import Settings
from revbridge.ingress.deals import Starter

out = Console(highlight=False)


def serve(
    host: str | None = typer.Option(None, help="Interface (default REVBRIDGE_API_HOST)."),
    port: int | None = typer.Option(None, help="Port (default REVBRIDGE_API_PORT, 8700)."),
    policy: Path | None = typer.Option(None, help="Policy file (default REVBRIDGE_POLICY_FILE)."),
) -> None:
    """Serve the HTTP API until interrupted."""
    import uvicorn

    from revbridge.api.main import create_app
    from revbridge.app import database_url, open_store
    from revbridge.config.load import load_policy
    from revbridge.errors import ConfigError
    from revbridge.observability.logging import configure_logging
    from revbridge.observability.tracing import configure_tracing

    settings = Settings()
    configure_logging(settings.log_level)
    configure_tracing(settings)  # no-op unless an OTLP endpoint is configured
    engine = open_store(settings)
    path = policy or settings.policy_file
    loaded = load_policy(path) if path.exists() else None
    receivers = {}
    if loaded is not None:
        from revbridge.connectors.registry import adapter_for_role

        try:
            crm = adapter_for_role(loaded, "crm", os.environ)
        except ConfigError as exc:
            out.print(f"CRM change webhooks off: {exc}")
        else:
            if getattr(crm, "pushed_changes", None) is not None:
                receivers[crm.system] = crm.pushed_changes
    app = create_app(
        settings, engine, loaded, start=_starter(database_url(settings)), receivers=receivers
    )
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    out.print(
        f"revbridge API on http://{bind_host}:{bind_port}/v1, console on "
        f"http://{bind_host}:{bind_port}/console/ (policy: {loaded and path})"
    )
    # uvicorn's loggers go through revbridge's handler (request lines never carry headers)
    uvicorn.run(app, host=bind_host, port=bind_port, log_config=None)


def _starter(url: str) -> Starter:
    import asyncio

    from dbos import DBOSClient

    from revbridge.flows import runtime
    from revbridge.flows.quote_to_cash import PROCESS, workflow_id

    clients: list[DBOSClient] = []  # one client for the process, made on first use

    def enqueue(deal: ExternalRef, correlation_id: str) -> None:
        if not clients:
            clients.append(DBOSClient(system_database_url=runtime.system_database_url(url)))
        clients[0].enqueue(
            {
                "workflow_name": PROCESS,
                "queue_name": runtime.DEALS_QUEUE,
                "workflow_id": workflow_id(deal),
            },
            str(deal),
            correlation_id,
        )

    async def start(deal: ExternalRef, correlation_id: str) -> None:
        await asyncio.to_thread(enqueue, deal, correlation_id)

    return start
