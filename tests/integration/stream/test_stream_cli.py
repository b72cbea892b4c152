"""``revbridge stream`` as an operator runs it: real processes, a real NATS server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from nats.js.errors import NotFoundError
from typer.testing import CliRunner

from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.cli import stream
from revbridge.errors import ConfigError
from revbridge.store import migrate
from revbridge.store.db import create_store_engine
from revbridge.stream import jetstream, sql_log
from revbridge.testing.factories import uk_subscription_order
from revbridge.testing.nats import NatsServer

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


def env_for(server: NatsServer | None, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "REVBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'revbridge.db'}"}
    env.pop("REVBRIDGE_NATS_URL", None)
    if server is not None:
        env["REVBRIDGE_NATS_URL"] = server.url
    return env


def seed_log(tmp_path: Path, count: int) -> list[str]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'revbridge.db'}")
    migrate.upgrade(engine)
    ids = []
    with engine.begin() as conn:
        for n in range(count):
            event = BusinessEvent.create(
                EventType.ORDER_ACCEPTED,
                uk_subscription_order(),
                source="/revbridge/flows/quote_to_cash",
                correlationid=f"corr-{n}",
            )
            sql_log.append(conn, event.model_dump(mode="json", exclude_none=True))
            ids.append(event.id)
    engine.dispose()
    return ids


def test_setup_relay_and_replay_from_the_command_line(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    env = env_for(nats_server, tmp_path)
    ids = seed_log(tmp_path, 5)
    cli = CliRunner()

    setup = cli.invoke(stream.app, ["setup"], env=env)
    assert setup.exit_code == 0, setup.output
    assert "stream REVBRIDGE_EVENTS: subjects revbridge.events.>" in setup.output
    assert "dedup window 900 s, max age 7 d" in setup.output

    relay = subprocess.Popen(
        [REVBRIDGE, "stream", "relay", "--interval", "0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a relay start-up on a loaded machine, not a speed
        while stream_length(nats_server) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        relay.send_signal(signal.SIGTERM)
        _, relay_err = relay.communicate(timeout=20)
    assert relay.returncode == 0, relay_err

    replayed = cli.invoke(stream.app, ["replay", "--from-seq", "1"], env=env)
    printed = [json.loads(line) for line in replayed.output.splitlines()]
    assert [p["seq"] for p in printed] == [1, 2, 3, 4, 5]
    assert [p["event"]["id"] for p in printed] == ids
    tail = cli.invoke(stream.app, ["replay", "--from-seq", "4"], env=env).output.splitlines()
    assert [json.loads(line)["seq"] for line in tail] == [4, 5]


def stream_length(server: NatsServer) -> int:
    async def main() -> int:
        nc = await jetstream.connect(server.url)
        try:
            info = await nc.jetstream().stream_info(jetstream.EVENTS.name)
        except NotFoundError:
            return 0
        finally:
            await nc.close()
        return int(info.state.messages)

    return asyncio.run(main())


def test_stream_commands_need_a_nats_url(tmp_path: Path) -> None:
    done = CliRunner().invoke(stream.app, ["setup"], env={"REVBRIDGE_NATS_URL": None})

    assert isinstance(done.exception, ConfigError)
    assert "REVBRIDGE_NATS_URL is not set" in str(done.exception)
