"""The ``/_sandbox/*`` control routes and snapshot persistence every sandbox shares.

``Sandbox`` turns a vendor app into a sandbox: it adds fault injection, the control
routes (``GET/PUT /_sandbox/faults``, ``POST /_sandbox/reset``, ``GET /_sandbox/state``)
and, when a SQLite path is given, saves the state after every successful write and
restores it at start.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from revbridge_sandboxes.faults import (
    ASGIApp,
    ErrorBody,
    FaultConfig,
    FaultInjector,
    Message,
    Receive,
    Scope,
    Send,
    fault_middleware,
)

MAX_CONTROL_BODY = 1 << 20


class SandboxState(Protocol):
    """What a sandbox's state must offer to be reset, inspected and persisted."""

    def reset(self) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
    def restore(self, data: dict[str, Any]) -> None: ...


class SnapshotFile:
    """One SQLite file holding the latest JSON snapshot of each sandbox's state."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS sandbox_snapshot"
            " (name TEXT PRIMARY KEY, body TEXT NOT NULL)"
        )

    def save(self, name: str, data: dict[str, Any]) -> None:
        body = json.dumps(data, default=str)
        with self._lock:
            self._conn.execute(
                "INSERT INTO sandbox_snapshot(name, body) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET body = excluded.body",
                (name, body),
            )

    def load(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM sandbox_snapshot WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))


class Sandbox:
    """A vendor app wrapped with faults, control routes and optional persistence.

    Instances are ASGI apps; tests reach the emulator's state through ``.state`` and
    its faults through ``.injector``.
    """

    def __init__(
        self,
        name: str,
        app: ASGIApp,
        state: SandboxState,
        error_body: ErrorBody,
        injector: FaultInjector | None = None,
        persist: SnapshotFile | None = None,
    ) -> None:
        self.name = name
        self.state = state
        self.injector = injector or FaultInjector()
        self.persist = persist
        if persist is not None and (saved := persist.load(name)) is not None:
            state.restore(saved)
        self._app = fault_middleware(app, self.injector, error_body)
        #: Answers given to API requests, by status (``/_sandbox/state`` → ``_responses``).
        self.responses: Counter[int] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope["path"].startswith("/_sandbox/") and await _control(
            scope, receive, send, self.state, self.injector, self.responses
        ):
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                self.responses[message["status"]] += 1
            await send(message)

        try:
            await self._app(scope, receive, watch)
        finally:
            wrote = scope["method"] != "GET" and (not status or status[0] < 500)
            if self.persist is not None and wrote:
                self.persist.save(self.name, self.state.snapshot())


async def _control(
    scope: Scope,
    receive: Receive,
    send: Send,
    state: SandboxState,
    injector: FaultInjector,
    responses: Counter[int],
) -> bool:
    path, method = scope["path"], scope["method"]
    if path == "/_sandbox/faults" and method == "GET":
        await _json(send, 200, injector.config.model_dump(mode="json"))
    elif path == "/_sandbox/faults" and method in ("PUT", "POST"):
        body = await _read(receive)
        if body is None:
            await _json(send, 413, {"error": "fault config over 1 MiB"})
            return True
        try:
            injector.configure(FaultConfig.model_validate_json(body or b"{}"))
        except ValidationError as exc:
            await _json(send, 400, {"error": "invalid fault config", "details": exc.errors()})
            return True
        await _json(send, 200, injector.config.model_dump(mode="json"))
    elif path == "/_sandbox/reset" and method == "POST":
        state.reset()
        injector.configure(FaultConfig())
        injector.counts.clear()
        responses.clear()
        await _json(send, 200, {"reset": True})
    elif path == "/_sandbox/state" and method == "GET":
        await _json(
            send,
            200,
            {
                **state.snapshot(),
                "_faults": dict(injector.counts),
                "_responses": {str(k): v for k, v in sorted(responses.items())},
            },
        )
    else:
        return False
    return True


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_CONTROL_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload, default=str).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
