"""What a step hands back to the workflow: a value, or a failure to raise a case for.

Steps never raise for business or integration failures: they return a ``StepFailure``
so the workflow decides, deterministically, which case to open and which actions are
safe. Failures carry the failing request and response, secrets already redacted.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from revbridge.errors import REFUSALS, AuthError, ConnectorError, RetryableError
from revbridge.flows.step_names import Step
from revbridge.observability.redaction import scrub_text


class StepFailure(BaseModel):
    """Why a step could not complete, with everything an owner needs to act."""

    model_config = ConfigDict(frozen=True)

    #: The :class:`Step` that failed (its value).
    step: str
    failure_class: str
    message: str
    system: str = ""
    code: str = ""
    retryable: bool = False
    request: dict[str, Any] = {}
    response: dict[str, Any] = {}
    findings: list[dict[str, str]] = []


def role_of(step: str) -> str:
    """The family of a connector failure in ``step``: the role of the system it calls, or
    ``integration`` for a step that calls none."""
    try:
        role = Step(step).role
    except ValueError:  # not a step of quote-to-cash
        role = None
    return role or "integration"


def failure_from_error(step: str, error: Exception) -> StepFailure:
    """Translate a connector error (or a defect) into a step failure."""
    role = role_of(step)
    if isinstance(error, ConnectorError):
        if isinstance(error, AuthError):
            failure_class = f"auth.{role}"
        elif isinstance(error, RetryableError):
            failure_class = "integration.unavailable"
        elif type(error).failure_class in REFUSALS:
            failure_class = f"{role}.{error.failure_class}"
        else:  # refused, but by no rule of the vendor's table: the data is the suspect
            failure_class = f"{role}.data"
        return StepFailure(
            step=step,
            failure_class=failure_class,
            message=scrub_text(str(error)),
            system=error.system,
            code=error.code,
            retryable=isinstance(error, RetryableError),
            request=error.request,
            response=error.response,
        )
    return StepFailure(
        step=step,
        failure_class="integration.defect",
        message=scrub_text(f"{type(error).__name__}: {error}"),
    )
