"""Every exception revbridge raises, grouped by what the caller should do.

::

    RevbridgeError
    ├── ConfigError                 the policy or settings are wrong: fix them, nothing ran
    ├── PolicyViolationError        a write against the system of record: refused, reported
    ├── StoreError                  our own database refused an operation
    │   └── AuditChainError         the audit log's hash chain is broken
    └── ConnectorError              a call to an external system failed
        ├── RetryableError          try again later (connection, 5xx, throttling); after
        │   │                       ``retry_after`` seconds when the target said so
        │   ├── RateLimitedError    throttled
        │   └── TimeoutAfterSendError  sent, no answer: the effect may have happened
        └── PermanentError          retrying cannot help: becomes an exception case
            ├── AuthError           credentials refused
            ├── DataError           the target rejected the data (validation)
            ├── NotFoundError       the object does not exist
            └── ConflictError       the target holds a conflicting object

Vendor errors are translated into this tree at each connector's edge; flows and the API
only ever see these classes. Messages never contain secrets.
"""

from __future__ import annotations

from typing import Any


class RevbridgeError(Exception):
    """Root of every error revbridge raises on purpose."""


class ConfigError(RevbridgeError):
    """A policy file or setting is invalid; ``problems`` lists every finding."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class PolicyViolationError(RevbridgeError):
    """A write would change data owned by another system of record."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class StoreError(RevbridgeError):
    """Our own database refused an operation."""


class AuditChainError(StoreError):
    """The audit log's hash chain does not verify."""


class ConnectorError(RevbridgeError):
    """A call to an external system failed.

    ``system`` names the target (policy key); ``request`` and ``response`` carry the
    exchange with secrets already redacted, for exception cases and logs.
    """

    failure_class = "integration"

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        code: str = "",
        status: int | None = None,
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.system = system
        self.code = code
        self.status = status
        self.request = request or {}
        self.response = response or {}


class RetryableError(ConnectorError):
    """Transient: the same call may succeed later, after ``retry_after`` seconds when the
    target said so (a 503's or a 429's ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    """The target throttled us."""


class TimeoutAfterSendError(RetryableError):
    """The request left but no answer came: retry only with the same idempotency key."""


class PermanentError(ConnectorError):
    """Retrying cannot help; a person must act."""


class AuthError(PermanentError):
    """The target refused our credentials."""

    failure_class = "auth"


class DataError(PermanentError):
    """The target rejected the data we sent (validation)."""

    failure_class = "data"


class NotFoundError(PermanentError):
    """The object asked for does not exist in the target."""

    failure_class = "not_found"


class ConflictError(PermanentError):
    """The target holds an object that conflicts with ours."""

    failure_class = "conflict"


#: The kinds of refusal a failure class names after the refusing system's role
#: (``erp.data``, ``tax.not_found``, ``crm.conflict``).
REFUSALS: tuple[str, ...] = (
    DataError.failure_class,
    NotFoundError.failure_class,
    ConflictError.failure_class,
)
