"""``revbridge worker``: run deals and invoices — recover, serve the queue, poll the CRM's
changes and billing's invoice events."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import typer
from rich.console import Console

from revbridge.config.settings import Settings

out = Console(highlight=False)


def worker(
    policy: Path | None = typer.Option(None, help="Policy file (default REVBRIDGE_POLICY_FILE)."),
    concurrency: int = typer.Option(16, help="Deals run at once by this worker."),
    poll: float = typer.Option(
        0.5, help="Seconds between change-feed polls when idle; 0: no polling."
    ),
    billing_poll: float = typer.Option(
        30.0,
        help="Seconds between pulls of billing's recent invoice events (finds lost webhooks); "
        "0: none.",
    ),
    webhooks: str | None = typer.Option(
        None, help="HOST:PORT to receive pushed change events on (POST /webhooks/<system>/changes)."
    ),
    metrics: str | None = typer.Option(
        None, help="HOST:PORT to serve this worker's Prometheus metrics on (GET /metrics)."
    ),
    executor_id: str | None = typer.Option(
        None,
        envvar="REVBRIDGE_EXECUTOR_ID",
        help="This worker's id in the fleet (default HOST-PID); unique among live workers.",
    ),
) -> None:
    """Run quote-to-cash flows until interrupted (SIGINT/SIGTERM)."""
    from revbridge.app import build, run_worker
    from revbridge.cli.config import require_policy
    from revbridge.cli.database import open_reachable
    from revbridge.observability.logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    path = policy or settings.policy_file
    require_policy(path)  # a missing or invalid file stops here, its problems listed
    open_reachable(settings).dispose()  # an unreachable database is one sentence
    app = build(settings, path)
    out.print(
        f"worker up: policy {app.policy_hash[:12]}, database "
        f"{app.engine.url.render_as_string(hide_password=True)}"
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(
            app,
            stop,
            concurrency=concurrency,
            poll_s=poll or None,
            billing_poll_s=billing_poll or None,
            webhooks=_address(webhooks) if webhooks else None,
            executor_id=executor_id,
            metrics=_address(metrics) if metrics else None,
        )

    asyncio.run(main())


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"expected HOST:PORT, got {text!r}")
    return host, int(port)
