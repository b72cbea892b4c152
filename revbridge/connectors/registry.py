"""Which adapter serves each system kind of the policy; used only by ``revbridge.app``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from revbridge.config.policy import Policy
from revbridge.errors import ConfigError


def build_adapter(policy: Policy, name: str, env: Mapping[str, str]) -> Any:
    """The adapter for system ``name`` of the policy, its credentials read from ``env``.

    The system is handed over with its effective retry, rate-limit and timeout settings
    (the policy's ``defaults`` overlaid with the system's own), so adapters need not merge.
    """
    system = policy.systems[name].model_copy(
        update={
            "retry": policy.retry_for(name),
            "rate_limit": policy.rate_limit_for(name),
            "timeout_s": policy.timeout_for(name),
        }
    )
    if system.kind == "salesforce":
        from revbridge.connectors import salesforce

        return salesforce.build(name, system, env)
    if system.kind == "netsuite":
        from revbridge.connectors import netsuite

        return netsuite.build(name, system, env)
    if system.kind == "stripe":
        from revbridge.connectors import stripe

        return stripe.build(name, system, env)
    if system.kind == "avalara":
        from revbridge.connectors import avalara

        return avalara.build(name, system, env)
    raise ConfigError(f"system {name}: no connector for kind {system.kind!r}")


def adapter_for_role(policy: Policy, role: str, env: Mapping[str, str]) -> Any:
    names = policy.systems_with_role(role)  # type: ignore[arg-type]
    if not names:
        raise ConfigError(f"the policy names no {role} system")
    return build_adapter(policy, names[0], env)
