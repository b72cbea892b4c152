"""``/v1/test_helpers/test_clocks``: Stripe's test clocks.

A customer created with ``test_clock=clock_…`` (and its subscriptions, invoices
and invoice items) lives at the clock's ``frozen_time``. ``…/advance`` moves the
clock forward and runs everything that came due on the way (renewals,
finalization, payment, retries, due dates), in time order. The sandbox completes
the advance before answering, so the clock is ``ready`` again at once; the
``test_helpers.test_clock.advancing`` and ``.ready`` events are still sent.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import billing
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import Int, Str, spec
from revbridge_sandboxes.stripe.state import DAY, StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id

CREATE = spec({"frozen_time": Int(lo=0), "name": Str(300)}, required=("frozen_time",))
ADVANCE = spec({"frozen_time": Int(lo=0)}, required=("frozen_time",))
LIST = spec({}, listing=True)


def create(call: Call) -> dict[str, Any]:
    state = call.state
    now = state.now()
    clock: Record = {
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + 30 * DAY,
        "frozen_time": call.params["frozen_time"],
        "livemode": False,
        "name": call.params.get("name"),
        "status": "ready",
        "status_details": {},
    }
    state.test_clocks.add(clock)
    state.emit("test_helpers.test_clock.created", clock, at=now)
    return render(call, clock)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.test_clocks.require(call.arg("id")))


def advance(call: Call) -> dict[str, Any]:
    state = call.state
    clock = state.test_clocks.require(call.arg("id"))
    target = call.params["frozen_time"]
    if target <= clock["frozen_time"]:
        raise StripeError.invalid(
            "The frozen time must be later than the test clock's current frozen time "
            f"({clock['frozen_time']}).",
            param="frozen_time",
        )
    now = state.now()
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    state.emit("test_helpers.test_clock.advancing", clock, at=now)
    billing.run_due(state, clock["id"], target)
    clock["frozen_time"] = target
    clock["status"] = "ready"
    clock["status_details"] = {}
    state.emit("test_helpers.test_clock.ready", clock, at=state.now())
    return render(call, clock)


def delete(call: Call) -> dict[str, Any]:
    """Delete the clock and every object that lives on it, as Stripe does."""
    state = call.state
    clock = state.test_clocks.require(call.arg("id"))
    for table in (state.invoiceitems, state.invoices, state.subscriptions, state.customers):
        for record in [r for r in table.rows.values() if r.get("test_clock") == clock["id"]]:
            table.remove(record["id"])
            if table is state.subscriptions:
                for item_id in record["_items"]:
                    state.subscription_items.remove(item_id)
            if table is state.invoices:
                _remove_payments(state, record)
    state.emit("test_helpers.test_clock.deleted", clock, at=state.now())
    state.test_clocks.remove(clock["id"])
    return {"id": clock["id"], "object": "test_helpers.test_clock", "deleted": True}


def _remove_payments(state: StripeState, invoice: Record) -> None:
    for payment_id in invoice.get("_payments") or []:
        payment = state.invoice_payments.get(payment_id)
        if payment is not None:
            state.payment_intents.remove(payment["payment"]["payment_intent"])
            state.invoice_payments.remove(payment_id)


def listing(call: Call) -> dict[str, Any]:
    return page(call, call.state.test_clocks, "/v1/test_helpers/test_clocks")


ROUTES: Routes = {
    "/v1/test_helpers/test_clocks": {
        "POST": Endpoint(CREATE, create),
        "GET": Endpoint(LIST, listing),
    },
    "/v1/test_helpers/test_clocks/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "DELETE": Endpoint(spec({}), delete),
    },
    "/v1/test_helpers/test_clocks/{id}/advance": {"POST": Endpoint(ADVANCE, advance)},
}
