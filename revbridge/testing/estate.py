"""A whole local estate for the demo, tests and benchmarks: the four sandboxes on real
sockets, the credentials the example policy names, and that policy pointed at them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox
from revbridge_sandboxes.registry import available
from revbridge_sandboxes.seed import Endpoints

#: What the example policy's credential references hold when it runs on the sandboxes.
SANDBOX_ENV: dict[str, str] = {
    "SF_CLIENT_ID": "revbridge-sandbox-client",
    "SF_CLIENT_SECRET": "revbridge-sandbox-secret",
    "SF_CDC_WEBHOOK_SECRET": "whsec_cmV2YnJpZGdlLXNhbGVzZm9yY2Utc2FuZGJveC1jZGM=",
    "NS_CONSUMER_KEY": "sandbox-consumer-key",
    "NS_CONSUMER_SECRET": "sandbox-consumer-secret",
    "NS_TOKEN_ID": "sandbox-token-id",
    "NS_TOKEN_SECRET": "sandbox-token-secret",
    "STRIPE_API_KEY": "sk_test_revbridge_sandbox",
    "STRIPE_WEBHOOK_SECRET": "whsec_revbridge_sandbox",
    "AVATAX_ACCOUNT_ID": "2000134479",
    "AVATAX_LICENSE_KEY": "4D0F3A5B2C1E9F87",
    "ALERT_WEBHOOK_FINANCE": "http://127.0.0.1:9/finance",
    "ALERT_WEBHOOK_OPS": "http://127.0.0.1:9/ops",
}


@dataclass
class LocalEstate:
    """Running sandboxes by name: their apps (for state) and base URLs."""

    apps: dict[str, Sandbox] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def policy_text(self, source: Path = EXAMPLE_POLICY) -> str:
        """The policy with every sandbox system's base_url pointed at this estate."""
        text = source.read_text(encoding="utf-8")
        for name, spec in available().items():
            default = f"http://127.0.0.1:{spec.default_port}"
            text = re.sub(re.escape(default) + r"(?![0-9])", self.urls[name], text)
        return text

    def write_policy(self, path: Path, source: Path = EXAMPLE_POLICY) -> Path:
        path.write_text(self.policy_text(source), encoding="utf-8")
        return path

    def endpoints(self) -> Endpoints:
        return Endpoints(
            salesforce=self.urls["salesforce"],
            stripe=self.urls["stripe"],
            salesforce_auth={
                "grant_type": "client_credentials",
                "client_id": SANDBOX_ENV["SF_CLIENT_ID"],
                "client_secret": SANDBOX_ENV["SF_CLIENT_SECRET"],
            },
            stripe_key=SANDBOX_ENV["STRIPE_API_KEY"],
            netsuite=self.urls["netsuite"],
            netsuite_token="sandbox-oauth2-access-token",  # noqa: S106 - the sandbox's own
        )

    def state(self, name: str) -> dict[str, Any]:
        return self.apps[name].state.snapshot()


@contextmanager
def local_estate(
    ports: Mapping[str, int] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[LocalEstate]:
    """Start the four sandboxes (on ``ports`` or free ones) for the duration of a block."""
    estate = LocalEstate()
    with ExitStack() as stack:
        for name, spec in available().items():
            app = spec.factory(**dict((options or {}).get(name, {})))
            port = (ports or {}).get(name)
            estate.apps[name] = app
            estate.urls[name] = stack.enter_context(serve(app, host=host, port=port))
        yield estate
