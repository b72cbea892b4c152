"""Steps that touch the ops work queue and the record: open a case, note an action, finish.

Each writes the state change, its audit entry and its canonical event in one
transaction, so the store, the audit chain and the event stream never disagree.
"""

from __future__ import annotations

import uuid
from typing import Any

from dbos import DBOS

from revbridge.canonical import BusinessEvent, EventType, ExternalRef
from revbridge.cases.guidance import guidance
from revbridge.cases.model import GOES_ON, CaseAction, ExceptionCase
from revbridge.flows.outcomes import StepFailure
from revbridge.flows.runtime import services
from revbridge.flows.step_names import Step
from revbridge.flows.steps import _effect, _store
from revbridge.ports import OrderPlan
from revbridge.store import audit, cases, deals, packages
from revbridge.store.deals import Stage, Status
from revbridge.stream import sql_log

EVENT_NAMESPACE = uuid.UUID("5f0c7f1e-3d0a-4a57-9d8e-2f6b1f1c0b7a")


def _event(
    kind: EventType, deal_key: str, correlation_id: str, data: Any, origin: str
) -> dict[str, Any]:
    """The event, its id derived from the step that raises it (``origin``): a step that runs
    again after a crash appends the same event, which the log then keeps once."""
    event = BusinessEvent.create(
        type=kind,
        data=data,
        source=services().source,
        correlationid=correlation_id,
        subject=deal_key,
    ).model_copy(update={"id": str(uuid.uuid5(EVENT_NAMESPACE, f"{origin}:{kind.value}"))})
    return dict(event.model_dump(mode="json", exclude_none=True))


def _origin() -> str:
    """This step's place in its workflow: stable across re-executions, new in a replay."""
    return f"{DBOS.workflow_id}:{DBOS.step_id}"


@DBOS.step()
async def open_case(
    deal_key: str,
    workflow_id: str,
    correlation_id: str,
    failure: StepFailure,
    actions: list[CaseAction],
    context: dict[str, Any],
) -> tuple[str, int]:
    """Open (or update) the deal's one open case, owned per the policy's failure classes;
    returns its id and occurrence number."""
    policy = services().policy
    owner = policy.exceptions.owner_for(failure.failure_class)
    text = guidance(failure, actions, policy.exceptions.guidance.get(owner))
    full_context = {
        **context,
        "step": failure.step,
        "system": failure.system,
        "code": failure.code,
        "findings": failure.findings,
        "request": failure.request,
        "response": failure.response,
    }

    origin = _origin()

    def work(conn: Any) -> tuple[str, int]:
        case, created = cases.raise_case(
            conn,
            deal_key=deal_key,
            workflow_id=workflow_id,
            owner=owner,
            failure_class=failure.failure_class,
            rule=failure.step,
            message=failure.message,
            guidance=text,
            context=full_context,
            actions=actions,
            correlation_id=correlation_id,
        )
        deals.advance(conn, deal_key, status=Status.EXCEPTION)
        audit.append(
            conn,
            actor="revbridge",
            action="case.raised" if created else "case.updated",
            subject=case.case_id,
            after={"owner": str(owner), "class": failure.failure_class, "message": failure.message},
            correlation_id=correlation_id,
        )
        sql_log.append(
            conn,
            _event(
                EventType.EXCEPTION_RAISED,
                deal_key,
                correlation_id,
                {
                    "case_id": case.case_id,
                    "owner": str(owner),
                    "failure_class": failure.failure_class,
                    "occurrences": case.occurrences,
                },
                origin,
            ),
        )
        return case.case_id, case.occurrences

    return await _store(work)


@DBOS.step()
async def case_acted(deal_key: str, case_id: str, action: CaseAction, correlation_id: str) -> None:
    """The workflow carries out ``action``. ``compensate`` and ``cancel`` end the case now;
    after ``retry`` or ``resume`` it stays open (with the attempt in its history) until
    :func:`case_cleared`, so a deal that fails the same way keeps its case and its age."""
    if action in GOES_ON:
        await _store(lambda conn: _attempt(conn, deal_key, case_id, action))
        return
    await _resolved(deal_key, case_id, action, correlation_id)


@DBOS.step()
async def case_cleared(
    deal_key: str, case_id: str, action: CaseAction, correlation_id: str
) -> None:
    """The deal got past the step that failed after ``action``: its case is resolved."""
    await _resolved(deal_key, case_id, action, correlation_id)


def _attempt(conn: Any, deal_key: str, case_id: str, action: CaseAction) -> None:
    cases.note_action(conn, case_id, action)
    deals.advance(conn, deal_key, status=Status.RUNNING)


#: How a deal stands once an action resolved its case; any other action lets it run on.
ENDED_BY = {CaseAction.COMPENSATE: Status.COMPENSATED, CaseAction.CANCEL: Status.CANCELLED}


async def _resolved(deal_key: str, case_id: str, action: CaseAction, correlation_id: str) -> None:
    origin = _origin()

    def work(conn: Any) -> None:
        cases.resolve(conn, case_id, action)
        deals.advance(conn, deal_key, status=ENDED_BY.get(action, Status.RUNNING))
        sql_log.append(
            conn,
            _event(
                EventType.EXCEPTION_RESOLVED,
                deal_key,
                correlation_id,
                {"case_id": case_id, "action": str(action)},
                origin,
            ),
        )

    await _store(work)


@DBOS.step()
async def finish_deal(
    deal_key: str, correlation_id: str, refs: dict[str, Any], plan: OrderPlan
) -> None:
    """The deal is activated: record it with the plan booked (what its invoices are checked
    against), audit it, publish ``order.accepted``."""
    origin = _origin()
    order = plan.order
    booked = plan.model_dump(mode="json")

    def work(conn: Any) -> None:
        deals.advance(
            conn, deal_key, Stage.ACTIVATED, status=Status.ACTIVATED, refs=refs, plan=booked
        )
        audit.append(
            conn,
            actor="revbridge",
            action="deal.activated",
            subject=deal_key,
            after={**refs, "total": str(order.total.amount), "currency": str(order.currency)},
            correlation_id=correlation_id,
        )
        event = _event(EventType.ORDER_ACCEPTED, deal_key, correlation_id, order, origin)
        sql_log.append(conn, event)

    await _store(work)


@DBOS.step()
async def settle_case(
    subject: str, failure_class: str, correlation_id: str
) -> tuple[str, str, int] | None:
    """Resolve ``subject``'s open case of ``failure_class`` (what was wrong is no longer):
    the run waiting on it, the case and its occurrence, or None when none is open."""
    origin = _origin()

    def work(conn: Any) -> tuple[str, str, int] | None:
        case = cases.open_for_deal(conn, subject)
        if case is None or case.failure_class != failure_class:
            return None
        cases.resolve(conn, case.case_id, "settled")
        audit.append(
            conn,
            actor="revbridge",
            action="case.settled",
            subject=case.case_id,
            after={"class": failure_class},
            correlation_id=correlation_id,
        )
        sql_log.append(
            conn,
            _event(
                EventType.EXCEPTION_RESOLVED,
                subject,
                correlation_id,
                {"case_id": case.case_id, "action": "settled"},
                origin,
            ),
        )
        if case.workflow_id is None:
            return None
        return case.workflow_id, case.case_id, case.occurrences

    return await _store(work)


#: How long the reason in a CRM stamp may be (the field holds 255 characters in all).
STAMP_REASON = 160


def stamp_text(case: ExceptionCase) -> str:
    """``Exception — <short reason> (<owner>)``: the first finding of the case's message."""
    reason = case.message.split("; ")[0].strip()
    if len(reason) > STAMP_REASON:
        reason = reason[: STAMP_REASON - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return f"Exception \N{EM DASH} {reason} ({case.owner})"


@DBOS.step()
async def stamp_exception(deal_key: str, correlation_id: str) -> None:
    """Show on the deal's CRM record why it is held (its newest open case, its own or an
    invoice's), or clear it when nothing is open. Best effort: a CRM that cannot be
    written is on the timeline, and the next stamp writes the state of that moment."""
    deal = ExternalRef.parse(deal_key)
    if deal.system == packages.SOURCE:
        return  # a submitted order package has no CRM record
    held = await _store(lambda conn: cases.open_for_correlation(conn, correlation_id))
    text = stamp_text(held[0]) if held else None
    crm = services().crm
    await _effect(
        Step.STAMP_EXCEPTION,
        deal_key,
        crm.system,
        lambda: crm.stamp_exception(deal, text),
        lambda conn, _: {"stamp": text},
    )


@DBOS.step()
async def mark_accepted(deal_key: str) -> None:
    await _store(lambda conn: deals.advance(conn, deal_key, Stage.ACCEPTED))
