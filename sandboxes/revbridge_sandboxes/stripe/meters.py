"""Usage-based billing: ``/v1/billing/meters`` and ``/v1/billing/meter_events``.

This is the current API for metered prices (legacy usage records were removed in
API version 2025-03-31). A meter aggregates the events named ``event_name`` per
customer (``sum``, ``count`` or ``last``); a metered price names its meter in
``recurring[meter]`` and is billed in arrears from that aggregate at the end of
each period. Meter events are validated synchronously here (Stripe reports some
errors asynchronously) and are visible immediately.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import Enum, Int, Obj, Str, StrHash, spec
from revbridge_sandboxes.stripe.state import StripeState, require_customer
from revbridge_sandboxes.stripe.tables import Record, new_id, new_token
from revbridge_sandboxes.stripe.views import list_object

DAY = 86_400
CREATE = spec(
    {
        "customer_mapping": Obj(
            {"event_payload_key": Str(100), "type": Enum("by_id")},
            required=("event_payload_key", "type"),
        ),
        "default_aggregation": Obj(
            {"formula": Enum("sum", "count", "last")}, required=("formula",)
        ),
        "display_name": Str(250),
        "event_name": Str(100),
        "event_time_window": Enum("day", "hour"),
        "value_settings": Obj({"event_payload_key": Str(100)}, required=("event_payload_key",)),
    },
    required=("default_aggregation", "display_name", "event_name"),
)
UPDATE = spec({"display_name": Str(250)})
LIST = spec({"status": Enum("active", "inactive")}, listing=True)
EVENT = spec(
    {"event_name": Str(100), "identifier": Str(100), "payload": StrHash(), "timestamp": Int(lo=0)},
    required=("event_name", "payload"),
)
SUMMARIES = spec(
    {
        "customer": Str(),
        "end_time": Int(lo=0),
        "start_time": Int(lo=0),
        "value_grouping_window": Enum("day", "hour"),
    },
    required=("customer", "end_time", "start_time"),
    listing=True,
)


def aggregate(state: StripeState, meter_id: str, customer_id: str, start: int, end: int) -> int:
    """The meter's value for one customer over ``[start, end)``."""
    meter = state.meters.rows[meter_id]
    events = [(t, v) for t, v in state.usage.get((meter_id, customer_id), []) if start <= t < end]
    formula = meter["default_aggregation"]["formula"]
    if formula == "count":
        return len(events)
    if formula == "last":
        return max(events)[1] if events else 0
    return sum(v for _, v in events)


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    name = params["event_name"]
    if any(m["event_name"] == name and m["status"] == "active" for m in state.meters.rows.values()):
        raise StripeError.state(
            f"An active meter with event_name '{name}' already exists.", param="event_name"
        )
    now = state.now()
    mapping = params.get("customer_mapping") or {}
    meter: Record = {
        "id": new_id("mtr"),
        "object": "billing.meter",
        "created": now,
        "customer_mapping": {
            "event_payload_key": mapping.get("event_payload_key") or "stripe_customer_id",
            "type": "by_id",
        },
        "default_aggregation": params["default_aggregation"],
        "display_name": params["display_name"],
        "event_name": name,
        "event_time_window": params.get("event_time_window"),
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": {
            "event_payload_key": (params.get("value_settings") or {}).get("event_payload_key")
            or "value"
        },
    }
    state.meters.add(meter)
    return render(call, meter)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.meters.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    meter = call.state.meters.require(call.arg("id"))
    if call.params.get("display_name"):
        meter["display_name"] = call.params["display_name"]
        meter["updated"] = call.state.now()
    return render(call, meter)


def deactivate(call: Call) -> dict[str, Any]:
    return _set_status(call, "inactive")


def reactivate(call: Call) -> dict[str, Any]:
    return _set_status(call, "active")


def listing(call: Call) -> dict[str, Any]:
    status = call.params.get("status")
    keep = (lambda m: m["status"] == status) if status else None
    return page(call, call.state.meters, "/v1/billing/meters", keep)


def record_event(call: Call) -> dict[str, Any]:
    """``POST /v1/billing/meter_events``: accept one usage event."""
    state, params = call.state, call.params
    name = params["event_name"]
    meter = next(
        (
            m
            for m in state.meters.rows.values()
            if m["event_name"] == name and m["status"] == "active"
        ),
        None,
    )
    if meter is None:
        raise StripeError.state(
            f"No active meter was found for event_name '{name}'.", param="event_name"
        )
    payload: dict[str, Any] = params["payload"]
    customer_key = meter["customer_mapping"]["event_payload_key"]
    customer = require_customer(state, payload.get(customer_key), f"payload[{customer_key}]")
    value = _value(meter, payload)
    now = state.now(customer.get("test_clock"))
    timestamp = params.get("timestamp") or now
    if not now - 35 * DAY <= timestamp <= now + 300:
        raise StripeError.invalid(
            "Timestamp must be within the past 35 days and no more than 5 minutes in the future.",
            param="timestamp",
        )
    identifier = params.get("identifier") or new_token(24)
    if state.meter_events.get(identifier) is not None:
        raise StripeError.state(
            f"An event with identifier '{identifier}' already exists.", param="identifier"
        )
    event: Record = {
        "object": "billing.meter_event",
        "created": now,
        "event_name": name,
        "identifier": identifier,
        "livemode": False,
        "payload": payload,
        "timestamp": timestamp,
        "_meter": meter["id"],
        "_customer": customer["id"],
        "_value": value,
    }
    state.meter_events.add(event, identifier)
    state.record_usage(event)
    return {k: v for k, v in event.items() if not k.startswith("_")}


def summaries(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    meter = state.meters.require(call.arg("id"))
    customer = require_customer(state, params["customer"])
    start, end = params["start_time"], params["end_time"]
    window = {"day": DAY, "hour": 3600, None: max(end - start, 1)}[
        params.get("value_grouping_window")
    ]
    limit = params.get("limit") or 10
    data: list[dict[str, Any]] = []
    for lo in range(start, end, window):
        if len(data) > limit:
            break
        hi = min(lo + window, end)
        data.append(
            {
                "id": new_id("mtrusg"),
                "object": "billing.meter_event_summary",
                "aggregated_value": aggregate(state, meter["id"], customer["id"], lo, hi),
                "end_time": hi,
                "livemode": False,
                "meter": meter["id"],
                "start_time": lo,
            }
        )
    url = f"/v1/billing/meters/{meter['id']}/event_summaries"
    return list_object(data[:limit], url, len(data) > limit)


def _value(meter: Record, payload: dict[str, Any]) -> int:
    key = meter["value_settings"]["event_payload_key"]
    raw = payload.get(key)
    if raw is None and meter["default_aggregation"]["formula"] == "count":
        return 1
    if not isinstance(raw, str) or not raw.lstrip("-").isdigit():
        raise StripeError.invalid(
            f"The payload value for '{key}' must be a whole number.", param=f"payload[{key}]"
        )
    return int(raw)


def _set_status(call: Call, status: str) -> dict[str, Any]:
    meter = call.state.meters.require(call.arg("id"))
    now = call.state.now()
    meter["status"] = status
    meter["status_transitions"] = {"deactivated_at": now if status == "inactive" else None}
    meter["updated"] = now
    return render(call, meter)


ROUTES: Routes = {
    "/v1/billing/meters": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/billing/meters/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
    },
    "/v1/billing/meters/{id}/deactivate": {"POST": Endpoint(spec({}), deactivate)},
    "/v1/billing/meters/{id}/reactivate": {"POST": Endpoint(spec({}), reactivate)},
    "/v1/billing/meters/{id}/event_summaries": {"GET": Endpoint(SUMMARIES, summaries)},
    "/v1/billing/meter_events": {"POST": Endpoint(EVENT, record_event)},
}
