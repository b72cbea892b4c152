"""``revbridge stream``: the NATS JetStream event stream — set up, relay, replay.

Every command needs ``REVBRIDGE_NATS_URL``; without it revbridge uses the embedded SQL
event log and these commands refuse to run.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from revbridge.config.settings import Settings
from revbridge.errors import ConfigError

app = typer.Typer(help="The NATS JetStream event stream.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")


def _nats_url(settings: Settings) -> str:
    if settings.nats_url is None:
        raise ConfigError("REVBRIDGE_NATS_URL is not set: the embedded SQL event log is in use")
    return settings.nats_url.get_secret_value()


def _until_signalled(main: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    async def run() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await main(stop)

    return asyncio.run(run())


@app.command("setup")
def setup() -> None:
    """Create or update the streams (REVBRIDGE_EVENTS, REVBRIDGE_INGEST)."""
    from revbridge.stream import jetstream

    settings = Settings()

    async def main() -> None:
        nc = await jetstream.connect(_nats_url(settings))
        try:
            for info in await jetstream.ensure_streams(nc.jetstream(), settings.stream_replicas):
                config = info.config
                out.print(
                    f"stream {config.name}: subjects {', '.join(config.subjects or [])}, "
                    f"{config.num_replicas} replica(s), dedup window {config.duplicate_window:.0f}"
                    f" s, max age {(config.max_age or 0) / 86400:.0f} d, "
                    f"{info.state.messages} message(s)"
                )
        finally:
            await nc.close()

    asyncio.run(main())


@app.command("relay")
def relay(
    interval: float = typer.Option(0.5, help="Seconds between rounds when the log is idle."),
) -> None:
    """Publish the embedded event log to REVBRIDGE_EVENTS until interrupted."""
    from revbridge.app import open_store
    from revbridge.stream import jetstream

    settings = Settings()
    engine = open_store(settings)

    async def main(stop: asyncio.Event) -> None:
        nc = await jetstream.connect(_nats_url(settings))
        try:
            js = nc.jetstream()
            await jetstream.ensure_stream(js, jetstream.EVENTS, update=False)
            out.print("relay up: embedded event log → REVBRIDGE_EVENTS")
            await jetstream.relay_forever(engine, js, stop, interval)
        finally:
            await nc.close()

    _until_signalled(main)


@app.command("replay")
def replay(
    from_seq: int = typer.Option(1, "--from-seq", min=1, help="First stream sequence to print."),
    limit: int = typer.Option(1000, min=1, help="At most this many events."),
    ingest: bool = typer.Option(False, help="Read REVBRIDGE_INGEST instead of REVBRIDGE_EVENTS."),
) -> None:
    """Print the stream's events from a sequence on, one JSON object per line."""
    from revbridge.stream import jetstream

    settings = Settings()
    spec = jetstream.INGEST if ingest else jetstream.EVENTS

    async def main() -> None:
        nc = await jetstream.connect(_nats_url(settings))
        try:
            js = nc.jetstream()
            after, left = from_seq - 1, limit
            while left > 0:
                page = await jetstream.read(js, after, min(left, 500), spec)
                for found in page:
                    line = {"seq": found.seq, "subject": found.subject, "event": found.event}
                    print(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
                if not page:
                    return
                after, left = page[-1].seq, left - len(page)
        finally:
            await nc.close()

    asyncio.run(main())
