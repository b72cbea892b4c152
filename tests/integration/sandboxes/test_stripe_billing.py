"""Sandbox time in the Stripe sandbox: renewals, collection, dunning, test clocks, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge.testing.servers import serve
from revbridge_sandboxes.control import SnapshotFile
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
SECRET = "whsec_billing_receiver"
DAY = 86_400


class Hooks:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []

    async def handle(self, request: Request) -> Response:
        self.received.append((await request.body(), request.headers["stripe-signature"]))
        return Response()


@pytest.fixture(scope="module")
def hooks() -> Iterator[tuple[str, Hooks]]:
    hooks = Hooks()
    with serve(Starlette(routes=[Route("/", hooks.handle, methods=["POST"])])) as url:
        yield url + "/", hooks


@pytest.fixture(scope="module")
def sandbox_url(hooks: tuple[str, Hooks]) -> Iterator[str]:
    with serve(create_app(webhook_endpoints=[(hooks[0], SECRET)])) as base:
        yield base


@pytest.fixture
def http(sandbox_url: str, hooks: tuple[str, Hooks]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, headers=AUTH) as client:
        client.post("/_sandbox/reset").raise_for_status()
        hooks[1].received.clear()
        yield client


def _post(http: httpx.Client, path: str, **form: Any) -> dict[str, Any]:
    response = http.post(path, data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _get(http: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _customer(http: httpx.Client, **form: Any) -> dict[str, Any]:
    """A customer whose default payment method is Stripe's good test card."""
    card = {"payment_method": "pm_card_visa"}
    card["invoice_settings[default_payment_method]"] = "pm_card_visa"
    return _post(http, "/v1/customers", **card, **form)


def _subscribe(http: httpx.Client, customer: dict[str, Any], **extra: Any) -> dict[str, Any]:
    product = _post(http, "/v1/products", name="Seat")
    price = _post(
        http,
        "/v1/prices",
        product=product["id"],
        currency="usd",
        unit_amount=1000,
        **{"recurring[interval]": "month"},
    )
    form = {"customer": customer["id"], "items[0][price]": price["id"], **extra}
    return _post(http, "/v1/subscriptions", **form)


def _period_end(sub: dict[str, Any]) -> int:
    end: int = sub["items"]["data"][0]["current_period_end"]
    return end


def _advance_to(http: httpx.Client, moment: int) -> None:
    http.post("/_sandbox/clock/advance", json={"to": moment}).raise_for_status()


def _invoices(http: httpx.Client, sub: dict[str, Any]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = _get(http, "/v1/invoices", subscription=sub["id"])["data"]
    return data


def _event_types(http: httpx.Client) -> list[str]:
    events = _get(http, "/v1/events", limit=100)["data"]
    return [e["type"] for e in reversed(events)]


def test_clock_advance_renews_a_subscription_and_emits_invoice_paid(
    http: httpx.Client, hooks: tuple[str, Hooks]
) -> None:
    sub = _subscribe(http, _customer(http, name="Acme"))
    end = _period_end(sub)

    _advance_to(http, end + 60)
    draft = _invoices(http, sub)[0]
    assert draft["status"] == "draft"
    assert draft["billing_reason"] == "subscription_cycle"
    assert draft["automatically_finalizes_at"] == end + 3600
    _advance_to(http, end + 2 * 3600)

    renewal = _get(http, f"/v1/invoices/{draft['id']}")
    assert renewal["status"] == "paid"
    assert renewal["total"] == 1000
    assert renewal["period_start"] == sub["start_date"]
    assert renewal["period_end"] == end
    line = renewal["lines"]["data"][0]
    assert line["period"]["start"] == end
    assert line["description"] == "1 \N{MULTIPLICATION SIGN} Seat (at $10.00 / month)"
    renewed = _get(http, f"/v1/subscriptions/{sub['id']}")
    assert renewed["latest_invoice"] == draft["id"]
    assert renewed["status"] == "active"
    assert renewed["items"]["data"][0]["current_period_start"] == end
    http.post("/_sandbox/webhooks/drain").raise_for_status()
    events = [stripe.Webhook.construct_event(b, s, SECRET) for b, s in hooks[1].received]
    paid = [e for e in events if e.type == "invoice.paid" and e.data.object.id == draft["id"]]
    assert len(paid) == 1
    assert paid[0].created == end + 3600
    assert paid[0].request.id is None


def test_renewal_bills_metered_usage_in_arrears(http: httpx.Client) -> None:
    customer = _customer(http, name="Acme")
    meter = _post(
        http,
        "/v1/billing/meters",
        display_name="Calls",
        event_name="api_call",
        **{"default_aggregation[formula]": "sum"},
    )
    product = _post(http, "/v1/products", name="API")
    price = _post(
        http,
        "/v1/prices",
        product=product["id"],
        currency="usd",
        unit_amount=3,
        **{"recurring[interval]": "month", "recurring[usage_type]": "metered"},
        **{"recurring[meter]": meter["id"]},
    )
    sub = _post(
        http, "/v1/subscriptions", customer=customer["id"], **{"items[0][price]": price["id"]}
    )
    for value in ("40", "60"):
        payload = {"payload[stripe_customer_id]": customer["id"], "payload[value]": value}
        _post(http, "/v1/billing/meter_events", event_name="api_call", **payload)

    _advance_to(http, _period_end(sub) + 2 * 3600)

    renewal, first = _invoices(http, sub)
    assert first["total"] == 0
    assert first["status"] == "paid"
    assert renewal["status"] == "paid"
    assert renewal["total"] == 300
    assert renewal["lines"]["data"][0]["quantity"] == 100
    summary = _get(
        http,
        f"/v1/billing/meters/{meter['id']}/event_summaries",
        customer=customer["id"],
        start_time=sub["start_date"],
        end_time=_period_end(sub),
    )
    assert summary["data"][0]["aggregated_value"] == 100


def test_declined_renewal_goes_past_due_and_recovers_on_retry(http: httpx.Client) -> None:
    customer = _customer(http, name="Acme")
    sub = _subscribe(http, customer)
    _post(http, f"/v1/customers/{customer['id']}", **{"metadata[sandbox_payment]": "fail"})
    end = _period_end(sub)

    _advance_to(http, end + 2 * 3600)
    invoice = _invoices(http, sub)[0]
    assert invoice["status"] == "open"
    assert invoice["attempt_count"] == 1
    assert invoice["next_payment_attempt"] == end + 3600 + 3 * DAY
    assert _get(http, f"/v1/subscriptions/{sub['id']}")["status"] == "past_due"

    _post(http, f"/v1/customers/{customer['id']}", **{"metadata[sandbox_payment]": ""})
    _advance_to(http, end + 4 * DAY)

    assert _get(http, f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert _get(http, f"/v1/subscriptions/{sub['id']}")["status"] == "active"
    types = _event_types(http)
    assert types.count("invoice.payment_failed") == 1
    assert "invoice.paid" in types


def test_subscription_is_canceled_after_the_last_failed_retry() -> None:
    with (
        serve(create_app(fail_payments=True)) as base,
        httpx.Client(base_url=base, headers=AUTH) as http,
    ):
        customer = _post(http, "/v1/customers", **{"metadata[sandbox_payment]": "succeed"})
        sub = _subscribe(http, customer)
        _post(http, f"/v1/customers/{customer['id']}", **{"metadata[sandbox_payment]": ""})
        _advance_to(http, _period_end(sub) + 20 * DAY)

        invoice = _invoices(http, sub)[0]
        ended = _get(http, f"/v1/subscriptions/{sub['id']}")
        types = _event_types(http)

    assert invoice["attempt_count"] == 4
    assert invoice["next_payment_attempt"] is None
    assert ended["status"] == "canceled"
    assert types.count("invoice.payment_failed") == 4
    assert types[-1] == "customer.subscription.deleted"


def test_send_invoice_subscription_goes_past_due_after_the_due_date(http: httpx.Client) -> None:
    customer = _post(http, "/v1/customers", name="Acme", email="ap@acme.test")
    sub = _subscribe(http, customer, collection_method="send_invoice", days_until_due="7")
    first = _invoices(http, sub)[0]
    assert sub["status"] == "active"
    assert first["status"] == "open"
    assert first["due_date"] == sub["start_date"] + 7 * DAY

    _advance_to(http, first["due_date"] + 60)
    assert _get(http, f"/v1/subscriptions/{sub['id']}")["status"] == "past_due"
    assert "invoice.overdue" in _event_types(http)

    paid = _post(http, f"/v1/invoices/{first['id']}/pay", paid_out_of_band="true")
    assert paid["status"] == "paid"
    assert _get(http, f"/v1/subscriptions/{sub['id']}")["status"] == "active"


def test_test_clock_moves_only_its_own_customers(http: httpx.Client) -> None:
    frozen = 1_767_225_600  # 2026-01-01T00:00:00Z
    clock = _post(http, "/v1/test_helpers/test_clocks", frozen_time=frozen, name="renewals")
    on_clock = _customer(http, name="Clocked", test_clock=clock["id"])
    elsewhere = _customer(http, name="Wall time")
    clocked_sub = _subscribe(http, on_clock)
    other_sub = _subscribe(http, elsewhere)
    assert clocked_sub["start_date"] == frozen
    assert clocked_sub["test_clock"] == clock["id"]
    assert _period_end(clocked_sub) == 1_769_904_000  # 2026-02-01

    advanced = _post(
        http, f"/v1/test_helpers/test_clocks/{clock['id']}/advance", frozen_time=frozen + 40 * DAY
    )

    assert advanced["status"] == "ready"
    assert advanced["frozen_time"] == frozen + 40 * DAY
    assert [i["status"] for i in _invoices(http, clocked_sub)] == ["paid", "paid"]
    assert len(_invoices(http, other_sub)) == 1
    renewal = _invoices(http, clocked_sub)[0]
    assert renewal["created"] == 1_769_904_000
    assert renewal["test_clock"] == clock["id"]
    backwards = http.post(
        f"/v1/test_helpers/test_clocks/{clock['id']}/advance", data={"frozen_time": frozen}
    )
    assert backwards.status_code == 400
    assert backwards.json()["error"]["param"] == "frozen_time"


def test_cancel_at_period_end_ends_the_subscription_at_renewal(http: httpx.Client) -> None:
    sub = _subscribe(http, _customer(http, name="Acme"))
    updated = _post(http, f"/v1/subscriptions/{sub['id']}", cancel_at_period_end="true")
    assert updated["cancel_at_period_end"] is True
    assert updated["status"] == "active"

    _advance_to(http, _period_end(sub) + 60)

    ended = _get(http, f"/v1/subscriptions/{sub['id']}")
    assert ended["status"] == "canceled"
    assert ended["ended_at"] == _period_end(sub)
    assert len(_invoices(http, sub)) == 1
    assert _event_types(http)[-1] == "customer.subscription.deleted"


def test_deleting_a_subscription_cancels_it_now(http: httpx.Client) -> None:
    sub = _subscribe(http, _customer(http, name="Acme"))

    canceled = http.delete(f"/v1/subscriptions/{sub['id']}").json()
    again = http.post(f"/v1/subscriptions/{sub['id']}", data={"description": "x"})

    assert canceled["status"] == "canceled"
    assert canceled["canceled_at"] is not None
    assert again.status_code == 400
    assert _event_types(http)[-1] == "customer.subscription.deleted"
    assert _get(http, "/v1/subscriptions")["data"] == []
    assert len(_get(http, "/v1/subscriptions", status="all")["data"]) == 1


def test_subscription_items_change_quantity_and_price(http: httpx.Client) -> None:
    sub = _subscribe(http, _customer(http, name="Acme"))
    item = sub["items"]["data"][0]
    addon = _post(http, "/v1/products", name="Support")
    price = _post(
        http,
        "/v1/prices",
        product=addon["id"],
        currency="usd",
        unit_amount=300,
        **{"recurring[interval]": "month"},
    )

    updated = _post(
        http,
        f"/v1/subscriptions/{sub['id']}",
        **{"items[0][id]": item["id"], "items[0][quantity]": "5", "items[1][price]": price["id"]},
    )

    assert [i["quantity"] for i in updated["items"]["data"]] == [5, 1]
    event = _get(http, "/v1/events", type="customer.subscription.updated")["data"][0]
    assert "items" in event["data"]["previous_attributes"]
    _advance_to(http, _period_end(sub) + 2 * 3600)
    assert _invoices(http, sub)[0]["total"] == 5 * 1000 + 300


def test_incomplete_subscription_expires_after_23_hours(http: httpx.Client) -> None:
    customer = _post(http, "/v1/customers", **{"metadata[sandbox_payment]": "fail"})
    sub = _subscribe(http, customer)
    assert sub["status"] == "incomplete"

    _advance_to(http, sub["created"] + 24 * 3600)

    assert _get(http, f"/v1/subscriptions/{sub['id']}")["status"] == "incomplete_expired"
    assert _invoices(http, sub)[0]["status"] == "void"


def test_invoices_void_and_drafts_delete(http: httpx.Client) -> None:
    customer = _post(http, "/v1/customers", name="Acme")
    draft = _post(http, "/v1/invoices", customer=customer["id"])
    _post(
        http,
        "/v1/invoiceitems",
        customer=customer["id"],
        invoice=draft["id"],
        amount=500,
        currency="usd",
    )
    opened = _post(http, f"/v1/invoices/{draft['id']}/finalize")
    other = _post(http, "/v1/invoices", customer=customer["id"])

    voided = _post(http, f"/v1/invoices/{opened['id']}/void")
    refused = http.post(f"/v1/invoices/{voided['id']}/pay")
    deleted = http.delete(f"/v1/invoices/{other['id']}").json()

    assert opened["total"] == 500
    assert voided["status"] == "void"
    assert refused.status_code == 400
    assert deleted == {"id": other["id"], "object": "invoice", "deleted": True}
    assert [i["id"] for i in _get(http, "/v1/invoices", status="void")["data"]] == [voided["id"]]


def test_state_survives_a_restart_with_persistence(tmp_path: Path) -> None:
    persist = SnapshotFile(tmp_path / "sandboxes.db")
    with (
        serve(create_app(persist=persist)) as base,
        httpx.Client(base_url=base, headers=AUTH) as http,
    ):
        customer = _post(http, "/v1/customers", name="Durable")
        replayed_key = {"Idempotency-Key": "durable-key"}
        http.post("/v1/products", data={"name": "P"}, headers=replayed_key).raise_for_status()

    with (
        serve(create_app(persist=persist)) as base,
        httpx.Client(base_url=base, headers=AUTH) as http,
    ):
        again = _get(http, f"/v1/customers/{customer['id']}")
        replay = http.post("/v1/products", data={"name": "P"}, headers=replayed_key)

    assert again["name"] == "Durable"
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_decline_test_payment_methods_decline_like_stripe(http: httpx.Client) -> None:
    customer = _post(http, "/v1/customers", name="Acme")
    item = {"customer": customer["id"], "amount": 700, "currency": "usd"}
    invoice = _post(http, "/v1/invoices", customer=customer["id"])
    _post(http, "/v1/invoiceitems", invoice=invoice["id"], **item)

    declined = http.post(
        f"/v1/invoices/{invoice['id']}/pay",
        data={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"},
    )
    paid = _post(http, f"/v1/invoices/{invoice['id']}/pay", payment_method="pm_card_visa")

    assert declined.status_code == 402
    error = declined.json()["error"]
    assert (error["type"], error["code"]) == ("card_error", "card_declined")
    assert error["decline_code"] == "insufficient_funds"
    assert paid["status"] == "paid"
    assert paid["attempt_count"] == 2


def test_flexible_billing_renews_each_item_on_its_own_interval() -> None:
    """An annual licence and monthly metered usage on one subscription
    (``billing_mode[type]=flexible``): the licence is billed once up front, and each month
    only the usage is invoiced."""
    import httpx

    from revbridge.testing.servers import serve
    from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

    with serve(create_app()) as base:
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
        product = http.post("/v1/products", data={"name": "Platform"}).json()["id"]
        meter = http.post(
            "/v1/billing/meters",
            data={
                "display_name": "API calls",
                "event_name": "api_calls",
                "default_aggregation[formula]": "sum",
            },
        ).json()["id"]
        annual = http.post(
            "/v1/prices",
            data={
                "product": product,
                "currency": "gbp",
                "unit_amount": 1200000,
                "recurring[interval]": "year",
            },
        ).json()["id"]
        usage = http.post(
            "/v1/prices",
            data={
                "product": product,
                "currency": "gbp",
                "unit_amount": 160,
                "recurring[interval]": "month",
                "recurring[usage_type]": "metered",
                "recurring[meter]": meter,
            },
        ).json()["id"]
        customer = http.post("/v1/customers", data={"name": "Globex"}).json()["id"]
        classic = http.post(
            "/v1/subscriptions",
            data={"customer": customer, "items[0][price]": annual, "items[1][price]": usage},
        )
        assert classic.status_code == 400
        created = http.post(
            "/v1/subscriptions",
            data={
                "customer": customer,
                "items[0][price]": annual,
                "items[1][price]": usage,
                "billing_mode[type]": "flexible",
                "collection_method": "send_invoice",
                "days_until_due": "30",
            },
        )
        assert created.status_code == 200, created.text
        sub = created.json()
        assert sub["billing_mode"]["type"] == "flexible"
        ends = sorted(
            i["current_period_end"] - i["current_period_start"] for i in sub["items"]["data"]
        )
        assert ends[0] < 32 * 86400 < 360 * 86400 < ends[1]
        http.post("/_sandbox/clock/advance", json={"seconds": 32 * 86400})
        invoices = http.get("/v1/invoices", params={"subscription": sub["id"]}).json()["data"]
        assert len(invoices) == 2
        assert invoices[-1]["total"] == 1200000  # the first invoice: the annual licence
        renewal = invoices[0]
        prices = {line["pricing"]["price_details"]["price"] for line in renewal["lines"]["data"]}
        assert prices == {usage}
