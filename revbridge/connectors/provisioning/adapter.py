"""The entitlements port on the policy's provisioning endpoints, and its factory."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from revbridge.config.policy import EntitlementEndpoint, Entitlements
from revbridge.config.systems import RetryPolicy as PolicyRetry
from revbridge.connectors.builder import retry_policy
from revbridge.connectors.http import HttpCaller
from revbridge.connectors.provisioning.classify import classify
from revbridge.connectors.provisioning.mapping import activation_body
from revbridge.connectors.provisioning.signing import (
    ID_HEADER,
    WHSEC_PREFIX,
    WebhookSigningTransport,
    signing_key,
)
from revbridge.errors import ConfigError
from revbridge.observability import redaction
from revbridge.ports import Activation


class ProvisioningEntitlements:
    """POSTs each activation, signed, to the endpoint it names."""

    def __init__(self, endpoints: Mapping[str, tuple[HttpCaller, str]]) -> None:
        self._endpoints = dict(endpoints)

    @property
    def callers(self) -> list[HttpCaller]:
        """One HTTP caller per endpoint (metrics observe them)."""
        return [caller for caller, _ in self._endpoints.values()]

    async def activate(self, activation: Activation) -> None:
        found = self._endpoints.get(activation.endpoint)
        if found is None:
            raise ConfigError(f"no entitlement endpoint named {activation.endpoint!r}")
        caller, path = found
        await caller.call(
            "POST",
            path,
            operation="activate",
            json_body=activation_body(activation),
            headers={ID_HEADER: activation.webhook_id},
            idempotent=True,  # the receiver dedupes on webhook-id
        )


def build(
    section: Entitlements, retry: PolicyRetry, env: Mapping[str, str]
) -> ProvisioningEntitlements:
    """The adapter for every endpoint of ``section``, each signing with its secret from
    ``env`` and retrying per ``retry``; one ConfigError lists every secret missing or
    malformed."""
    endpoints: dict[str, tuple[HttpCaller, str]] = {}
    problems: list[str] = []
    for endpoint in section.endpoints:
        try:
            endpoints[endpoint.name] = _caller(endpoint, retry, env)
        except ValueError as exc:
            problems.append(f"entitlements.endpoints.{endpoint.name}.secret: {exc}")
    if problems:
        raise ConfigError(f"entitlements: {'; '.join(problems)}", problems)
    return ProvisioningEntitlements(endpoints)


def _caller(
    endpoint: EntitlementEndpoint, retry: PolicyRetry, env: Mapping[str, str]
) -> tuple[HttpCaller, str]:
    variable = endpoint.secret.env
    secret = env.get(variable)
    if not secret:
        raise ValueError(f"environment variable {variable} is not set")
    redaction.register_secret(secret)
    redaction.register_secret(secret.strip().removeprefix(WHSEC_PREFIX))
    key = signing_key(secret)
    parts = urlsplit(endpoint.url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    caller = HttpCaller(
        system=endpoint.name,
        base_url=f"{parts.scheme}://{parts.netloc}",
        classify=classify,
        policy=retry_policy(retry),
        timeout_s=endpoint.timeout_s,
        transport=WebhookSigningTransport(key),
    )
    return caller, path
