"""What every connector's ``build()`` starts from: credentials, retry policy, the caller.

A connector's factory takes its system entry of the policy and the environment and
returns its adapter. The parts every factory needs are here, written once:

- :func:`read_credentials`: the ``{env: NAME}`` references → their values, registered as
  secrets for redaction; one :class:`~revbridge.errors.ConfigError` lists every
  variable that is not set and every required credential the entry does not name.
- :func:`retry_policy`: the policy file's ``retry`` section → the
  :class:`~revbridge.connectors.retry.RetryPolicy` value :func:`decide` reads.
- :func:`http_caller`: the system's :class:`~revbridge.connectors.http.HttpCaller` (base
  URL, the connector's classify table, auth, retry policy, rate limit and concurrency,
  timeout), fields the entry leaves unset taking the policy's built-in defaults.

A fifth connector's ``build`` reads::

    def build(system_name: str, system: AcmeSystem, env: Mapping[str, str]) -> AcmeErp:
        secrets = read_credentials(system_name, system, env, required=("api_key",))
        http = http_caller(system_name, system, classify, auth=ApiKey(secrets["api_key"]))
        return AcmeErp(system_name, AcmeClient(http))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

from revbridge.config.systems import Defaults, RateLimit, SystemBase
from revbridge.config.systems import RetryPolicy as PolicyRetry
from revbridge.connectors.http import Auth, Classifier, HttpCaller
from revbridge.connectors.retry import Jitter, RetryPolicy
from revbridge.errors import ConfigError
from revbridge.observability import redaction


def retry_policy(retry: PolicyRetry | None) -> RetryPolicy:
    """The policy file's ``retry`` section (the built-in default when None) as a value."""
    retry = retry or Defaults().retry
    return RetryPolicy(
        max_attempts=retry.max_attempts,
        base_delay_s=retry.base_delay_s,
        max_delay_s=retry.max_delay_s,
        jitter=Jitter(retry.jitter),
        honour_retry_after=retry.honour_retry_after,
    )


def read_credentials(
    system_name: str,
    system: SystemBase,
    env: Mapping[str, str],
    *,
    names: Iterable[str] | None = None,
    required: Iterable[str] = (),
) -> dict[str, str]:
    """The values of the credentials ``names`` (default: every one the entry names).

    Raises one :class:`ConfigError` listing each variable that is unset or empty and each
    ``required`` credential the entry does not name. The values read are registered as
    secrets, so no log line or error carries them.
    """
    wanted = list(system.credentials) if names is None else list(names)
    values: dict[str, str] = {}
    problems: list[str] = []
    for name in wanted:
        ref = system.credentials.get(name)
        if ref is None:
            continue
        value = env.get(ref.env)
        if value:
            values[name] = value
        else:
            problems.append(
                f"systems.{system_name}.credentials.{name}: "
                f"environment variable {ref.env} is not set"
            )
    problems += [
        f"systems.{system_name}.credentials.{name} is required"
        for name in required
        if name not in system.credentials
    ]
    redaction.register_secrets(values.values())
    if problems:
        raise ConfigError(f"{system_name}: credentials missing: {'; '.join(problems)}", problems)
    return values


def http_caller(
    system_name: str,
    system: SystemBase,
    classify: Classifier,
    *,
    auth: Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    default_rate_limit: RateLimit | None = None,
    burst_share: float | None = None,
) -> HttpCaller:
    """The system's HTTP caller, from its entry of the policy.

    Unset fields take the policy's built-in defaults (``default_rate_limit`` instead, when
    the product has a safer one of its own). ``burst_share`` caps the burst at that share
    of one second's requests, for targets whose limiter refills per second.
    """
    defaults = Defaults()
    limit = system.rate_limit or default_rate_limit or defaults.rate_limit
    burst = limit.burst
    if burst_share is not None:
        burst = max(1, min(burst, int(limit.requests_per_s * burst_share)))
    return HttpCaller(
        system=system_name,
        base_url=system.base_url,
        classify=classify,
        auth=auth,
        policy=retry_policy(system.retry),
        max_concurrency=limit.max_concurrency,
        requests_per_s=limit.requests_per_s,
        burst=burst,
        timeout_s=system.timeout_s or defaults.timeout_s,
        transport=transport,
    )
