"""``revbridge keys`` and ``revbridge serve`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from revbridge.testing.servers import free_port

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REVBRIDGE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_keys_create_list_revoke_and_serve(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REVBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'rb.db'}",
        "REVBRIDGE_POLICY_FILE": str(tmp_path / "none.yaml"),
    }
    created = _run("keys", "create", "--role", "auditor", "--name", "cli test", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("rbk_")
    key_id = token.split("_")[1]
    listed = _run("keys", "list", env=env)
    assert key_id in listed.stdout
    assert token.split("_", 2)[-1] not in listed.stdout
    assert _run("keys", "create", "--role", "boss", "--name", "x", env=env).returncode != 0
    port = free_port()
    server = subprocess.Popen(
        [REVBRIDGE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 120  # a start-up, not a speed: a loaded machine is slow
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            assert server.poll() is None
            time.sleep(0.1)
        assert httpx.get(f"{base}/v1/audit", headers=headers).status_code == 200
        revoked = _run("keys", "revoke", key_id, env=env)
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.get(f"{base}/v1/audit", headers=headers).status_code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert token not in output
    assert token.split("_", 2)[-1] not in output
