"""Sandboxes in their own processes, configured for a benchmark profile."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from revbridge.testing.estate import LocalEstate
from revbridge.testing.servers import free_port

PROFILES = ("zero-latency", "realistic")


def _latency(mean_ms: float) -> dict[str, Any]:
    return {
        "path": "*",
        "latency": {"distribution": "normal", "mean_ms": mean_ms, "stddev_ms": mean_ms / 5},
    }


def profile_options(profile: str) -> dict[str, dict[str, Any]]:
    """``create_app`` options per sandbox."""
    options: dict[str, dict[str, Any]] = {"netsuite": {"approval_delay_s": 0.0}}
    if profile == "realistic":
        options["netsuite"].update(service_time_ms=300.0, concurrency_limit=5)
        options["stripe"] = {"rate_limit_per_s": 25}
    return options


def profile_faults(profile: str) -> dict[str, list[dict[str, Any]]]:
    """Latency rules per sandbox (NetSuite's time is spent inside its concurrency slot)."""
    if profile != "realistic":
        return {}
    return {"salesforce": [_latency(150)], "stripe": [_latency(100)], "avalara": [_latency(80)]}


def start_sandbox(name: str, port: int, options: dict[str, Any]) -> subprocess.Popen[bytes]:
    """One sandbox under uvicorn in a process of its own."""
    code = (
        "import json, sys, uvicorn\n"
        "from revbridge_sandboxes.registry import create\n"
        "uvicorn.run(create(sys.argv[1], **json.loads(sys.argv[2])), host='127.0.0.1',"
        " port=int(sys.argv[3]), log_level='warning', access_log=False)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, name, json.dumps(options), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_up(url: str) -> None:
    """Return once the sandbox at ``url`` answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/faults", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"sandbox at {url} did not start")


@contextmanager
def sandbox_processes(
    profile: str, extra_options: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[LocalEstate]:
    """The four sandboxes, one process each, configured for ``profile`` (``extra_options``
    are merged into each sandbox's ``create_app`` options)."""
    from revbridge_sandboxes.registry import available

    estate = LocalEstate()
    processes = []
    options = profile_options(profile)
    for name, extra in (extra_options or {}).items():
        options[name] = {**options.get(name, {}), **extra}
    try:
        for name in available():
            port = free_port()
            processes.append(start_sandbox(name, port, options.get(name, {})))
            estate.urls[name] = f"http://127.0.0.1:{port}"
        for url in estate.urls.values():
            wait_up(url)
        for name, rules in profile_faults(profile).items():
            httpx.put(
                f"{estate.urls[name]}/_sandbox/faults", json={"rules": rules}
            ).raise_for_status()
        yield estate
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def responses(estate: LocalEstate) -> dict[str, dict[str, int]]:
    """Answers each sandbox gave so far, by status."""
    return {
        name: httpx.get(f"{url}/_sandbox/state", timeout=60).json()["_responses"]
        for name, url in estate.urls.items()
    }
