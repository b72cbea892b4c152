"""What a step hands back to the workflow: a value, or a failure to raise a case for.

Steps never raise for business or integration failures: they return a ``StepFailure``
so the workflow decides, deterministically, which case to open and which actions are
safe. Failures carry the failing request and response, secrets already redacted.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from revbridge.errors import AuthError, ConnectorError, RetryableError
from revbridge.observability.redaction import scrub_text

#: The kinds of refusal a failure class names after its role (``erp.data``).
KINDS = ("data", "not_found", "conflict")

#: Role of each port, used as the family of a connector failure class (``erp.data``).
ROLE_OF_STEP = {
    "fetch_deal": "crm",
    "write_back": "crm",
    "upsert_erp_customer": "erp",
    "submit_sales_order": "erp",
    "check_order_state": "erp",
    "close_sales_order": "erp",
    "quote_tax": "tax",
    "void_tax": "tax",
    "ensure_billing_customer": "billing",
    "start_subscription": "billing",
    "add_invoice_items": "billing",
    "cancel_subscription": "billing",
}


class StepFailure(BaseModel):
    """Why a step could not complete, with everything an owner needs to act."""

    model_config = ConfigDict(frozen=True)

    step: str
    failure_class: str
    message: str
    system: str = ""
    code: str = ""
    retryable: bool = False
    request: dict[str, Any] = {}
    response: dict[str, Any] = {}
    findings: list[dict[str, str]] = []


def failure_from_error(step: str, error: Exception) -> StepFailure:
    """Translate a connector error (or a defect) into a step failure."""
    role = ROLE_OF_STEP.get(step, "integration")
    if isinstance(error, ConnectorError):
        if isinstance(error, AuthError):
            failure_class = f"auth.{role}"
        elif isinstance(error, RetryableError):
            failure_class = "integration.unavailable"
        elif type(error).failure_class in KINDS:
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
