"""Usage reported to the billing meter: one run per usage record, started when the API
accepts it.

usage record → its billing customer (as the customer's deal booked it) and the product's
billing price (from the policy's product map) → reported to the billing meter under the
record's id → the record is ``reported``.

Billing dedupes events by that id, so a report resent after a lost answer (or by a run
that resumed after a crash) counts once. A refusal (a non-integral quantity for a meter
that counts units, a price with no meter, the customer gone) marks the record ``failed``
and opens one case under the key ``usage:<record id>``, owned per the policy's failure
classes (``billing.data``); the run waits for the owner's ``retry`` (after fixing the
billing set-up) or ``cancel``.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from revbridge.canonical import ExternalRef, correlation_id_for
from revbridge.cases.model import CaseAction, action_named
from revbridge.errors import DataError, NotFoundError
from revbridge.flows import casework, runtime
from revbridge.flows.outcomes import StepFailure
from revbridge.flows.step_names import Step
from revbridge.flows.steps import _effect, _store
from revbridge.observability import tracing
from revbridge.ports import UsageReport
from revbridge.store import bindings
from revbridge.store import usage as records
from revbridge.store.usage import State

PROCESS = "usage"
#: What an owner may do with a usage record billing refused.
ACTIONS = [CaseAction.RETRY, CaseAction.CANCEL]


def workflow_id(record_id: str) -> str:
    """The run of one usage record, and the key its case is filed under."""
    return f"{PROCESS}:{record_id}"


def arguments(record_id: str) -> tuple[str, str]:
    """What :func:`report_usage` is started with: the record's key and correlation id."""
    return workflow_id(record_id), correlation_id_for(ExternalRef(system=PROCESS, id=record_id))


@DBOS.workflow(name=PROCESS)
@tracing.flow_span(PROCESS)
async def report_usage(key: str, correlation: str) -> str:
    """Report the usage record ``usage:<record id>`` to the billing meter; returns how the
    run ended."""
    record_id = key.removeprefix(f"{PROCESS}:")
    acted: str | None = None  # the case retried, resolved once the report goes through
    while True:
        result = await report_to_billing(record_id)
        if not isinstance(result, StepFailure):
            if acted is not None:
                await casework.case_cleared(key, acted, CaseAction.RETRY, correlation)
            return result
        context = {"usage_record": record_id, "deal": key}
        case_id, occurrence = await casework.open_case(
            key, key, correlation, result, ACTIONS, context
        )
        message = await runtime.wait_for_action(case_id, occurrence)
        action = action_named(str(message.get("action")))
        if action not in ACTIONS:
            action = CaseAction.RETRY
        await casework.case_acted(key, case_id, action, correlation)
        if action is CaseAction.CANCEL:
            return "cancelled"
        acted = case_id


@DBOS.step()
async def report_to_billing(record_id: str) -> str | StepFailure:
    """Report the record once; ``reported`` (or ``already reported``), else the failure."""
    services = runtime.services()
    billing = services.billing
    stored = await _store(lambda conn: records.get(conn, record_id))
    if stored is None:
        raise RuntimeError(f"usage record {record_id} is not stored")  # started only once stored
    if stored.state is State.REPORTED:
        return "already reported"

    def report(conn: Any) -> UsageReport:
        customer = bindings.external_for(conn, "customer", stored.customer_id, billing.system)
        if customer is None:
            raise NotFoundError(
                f"{billing.system}: customer {stored.customer_id} has no billing customer",
                system=billing.system,
                code="no_billing_customer",
            )
        product = services.policy.products.get(stored.sku)
        if product is None or product.billing.usage_type != "metered":
            raise DataError(
                f"{stored.sku} is not a metered product of the policy in force",
                system=billing.system,
                code="not_metered",
            )
        return UsageReport(
            record_id=record_id,
            customer=ExternalRef(system=billing.system, id=customer),
            sku=stored.sku,
            price_lookup_key=product.billing.price_lookup_key,
            currencies=tuple(sorted(product.billing.prices)),
            quantity=stored.quantity,
            occurred_at=stored.occurred_at,
        )

    async def call() -> ExternalRef:
        return await billing.report_usage(await _store(report))

    def reported(conn: Any, ref: ExternalRef) -> dict[str, Any]:
        records.mark_reported(conn, record_id, str(ref))
        return {"usage_record": record_id, "meter_event": ref.id}

    key = workflow_id(record_id)
    result = await _effect(Step.REPORT_USAGE, key, billing.system, call, reported)
    if isinstance(result, StepFailure):
        message = result.message
        await _store(lambda conn: records.mark_failed(conn, record_id, message))
        return result
    return "reported"
