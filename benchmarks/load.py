"""A small closed-loop HTTP/1.1 load generator on raw asyncio sockets.

httpx is too slow to load a server on the same two cores, so this speaks keep-alive
HTTP/1.1 directly: ``connections`` workers each send a request, read the full response
(Content-Length bodies), and send the next, for ``seconds``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


async def _worker(host: str, port: int, request: bytes, stop: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop:
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status_line.split(b" ")[1:2] != [b"200"]:
                result.errors += 1
            result.requests += 1
    finally:
        writer.close()


async def run_load(
    url: str, headers: dict[str, str], seconds: float = 5.0, connections: int = 8
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    result = LoadResult(0, 0, seconds, [])
    stop = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(*(_worker(host, port, request, stop, result) for _ in range(connections)))
    result.seconds = time.monotonic() - started
    return result
