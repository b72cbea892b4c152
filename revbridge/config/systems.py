"""The ``systems`` section of the policy file: where each external system lives and how to call it.

A system is one deployment of a supported product (``kind``) playing one business ``role``.
Its credentials are never written in the policy file: each credential names the environment
variable that holds it, written ``{env: VARIABLE_NAME}``.

Adding a connector kind means adding one ``<Product>System`` class below (its ``kind``
literal, the roles it may play and its ``options`` model) and listing it in ``System``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

Role = Literal["crm", "erp", "billing", "tax", "payments"]
ROLES: tuple[Role, ...] = ("crm", "erp", "billing", "tax", "payments")
RESERVED_OWNERS = ("shared", "revbridge")

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_INLINE_REF = re.compile(r"^\$\{env:([A-Za-z0-9_]+)\}$")


class Strict(BaseModel):
    """Base of every policy model: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _system_name(value: str) -> str:
    if not _SYSTEM_NAME.match(value):
        raise PydanticCustomError(
            "system_name",
            "system name '{value}' must be lower case letters, digits, '-' or '_'",
            {"value": value},
        )
    if value in ROLES or value in RESERVED_OWNERS:
        raise PydanticCustomError(
            "system_name_reserved",
            "'{value}' is reserved (a role or ownership keyword); name the system after "
            "the product, e.g. netsuite",
            {"value": value},
        )
    return value


SystemName = Annotated[str, AfterValidator(_system_name)]


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PydanticCustomError(
            "base_url", "base_url must be an http:// or https:// URL with a host"
        )
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise PydanticCustomError(
            "env_name",
            "'{value}' is not an environment variable name (upper case letters, digits, '_')",
            {"value": value},
        )
    return value


class EnvRef(Strict):
    """A secret held in the process environment, written ``{env: VARIABLE_NAME}``."""

    env: Annotated[str, AfterValidator(_env_name)]


def _no_inline_secret(value: Any) -> Any:
    if isinstance(value, str):
        match = _INLINE_REF.match(value.strip())
        if match:
            raise PydanticCustomError(
                "env_ref_syntax",
                "write this reference as {env: {name}}",
                {"name": match.group(1)},
            )
        raise PydanticCustomError(
            "inline_secret",
            "inline secret: a credential must name an environment variable, written "
            "{env: VARIABLE_NAME}; never put the secret itself in the policy file",
        )
    if not isinstance(value, dict):
        raise PydanticCustomError("env_ref", "a credential is written {env: VARIABLE_NAME}")
    return value


Credential = Annotated[EnvRef, BeforeValidator(_no_inline_secret)]
"""A credential reference; an inline literal is rejected with an ``inline secret`` error."""


class RetryPolicy(Strict):
    """Retries of retryable failures: exponential backoff from ``base_delay_s``, capped."""

    max_attempts: int = Field(5, ge=1, le=100)
    base_delay_s: float = Field(0.5, gt=0)
    max_delay_s: float = Field(30.0, gt=0)
    jitter: Literal["full", "equal", "none"] = "full"
    honour_retry_after: bool = True

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryPolicy:
        if self.max_delay_s < self.base_delay_s:
            raise PydanticCustomError(
                "retry_delays", "max_delay_s must not be smaller than base_delay_s"
            )
        return self


class RateLimit(Strict):
    """Client-side throttle: a token bucket plus a cap on calls in flight."""

    requests_per_s: float = Field(10.0, gt=0)
    burst: int = Field(20, ge=1)
    max_concurrency: int = Field(10, ge=1)


class SalesforceOptions(Strict):
    api_version: Annotated[str, Field(pattern=r"^\d{2,3}\.0$")] = "62.0"
    status_field: str = "Integration_Status__c"


class NetSuiteOptions(Strict):
    account_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]


class StripeOptions(Strict):
    api_version: str = "2024-06-20"
    collection_method: Literal["charge_automatically", "send_invoice"] = "send_invoice"
    days_until_due: int = Field(30, ge=0, le=365)


class AvalaraOptions(Strict):
    commit_documents: bool = True
    document_type: Literal["SalesInvoice", "SalesOrder"] = "SalesInvoice"


class SystemBase(Strict):
    """What every system declares, whatever its kind."""

    kind: str
    role: Role
    base_url: BaseUrl
    credentials: dict[str, Credential] = Field(default_factory=dict)
    timeout_s: float | None = Field(None, gt=0)
    retry: RetryPolicy | None = None
    rate_limit: RateLimit | None = None


class SalesforceSystem(SystemBase):
    kind: Literal["salesforce"]
    role: Literal["crm"] = "crm"
    options: SalesforceOptions = SalesforceOptions()


class NetSuiteSystem(SystemBase):
    kind: Literal["netsuite"]
    role: Literal["erp"] = "erp"
    options: NetSuiteOptions


class StripeSystem(SystemBase):
    kind: Literal["stripe"]
    role: Literal["billing", "payments"] = "billing"
    options: StripeOptions = StripeOptions()


class AvalaraSystem(SystemBase):
    kind: Literal["avalara"]
    role: Literal["tax"] = "tax"
    options: AvalaraOptions = AvalaraOptions()


System = Annotated[
    SalesforceSystem | NetSuiteSystem | StripeSystem | AvalaraSystem,
    Field(discriminator="kind"),
]
"""One system entry; ``kind`` selects the model."""


def _kinds() -> tuple[str, ...]:
    members = get_args(get_args(System)[0])
    return tuple(str(get_args(cls.model_fields["kind"].annotation)[0]) for cls in members)


SYSTEM_KINDS: tuple[str, ...] = _kinds()
"""The supported ``kind`` values, in the order of ``System``."""


class Defaults(Strict):
    """Call policy for systems that do not set their own (field by field)."""

    timeout_s: float = Field(30.0, gt=0)
    retry: RetryPolicy = RetryPolicy()
    rate_limit: RateLimit = RateLimit()
