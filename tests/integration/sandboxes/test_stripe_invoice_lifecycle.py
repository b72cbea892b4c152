"""The invoice life cycle in the Stripe sandbox, through the official SDK.

Each test follows one transition of Stripe's documented table (draft → open → paid,
void, uncollectible), one refused transition, or how InvoicePayments, partial payments,
lists and test clocks behave.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge.testing.servers import serve
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

SECRET = "whsec_invoice_lifecycle"
DAY = 86_400
NO_METHOD = "This customer has no attached payment source or default payment method."


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, str]] = []
        self.lock = threading.Lock()

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.bodies.append((body, request.headers["stripe-signature"]))
        return Response()


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, Receiver]]:
    hook = Receiver()
    with serve(Starlette(routes=[Route("/", hook.handle, methods=["POST"])])) as url:
        yield url + "/", hook


@pytest.fixture(scope="module")
def sandbox_url(receiver: tuple[str, Receiver]) -> Iterator[str]:
    with serve(create_app(webhook_endpoints=[(receiver[0], SECRET)])) as base:
        yield base


@pytest.fixture
def base_url(sandbox_url: str, receiver: tuple[str, Receiver]) -> str:
    httpx.post(f"{sandbox_url}/_sandbox/reset").raise_for_status()
    receiver[1].bodies.clear()
    return sandbox_url


@pytest.fixture
def client(base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": base_url}, max_network_retries=0
    )


def _customer(client: stripe.StripeClient, card: str | None = "pm_card_visa", **extra: Any) -> Any:
    params: dict[str, Any] = {"name": "Acme", **extra}
    if card is not None:
        params["payment_method"] = card
        params["invoice_settings"] = {"default_payment_method": card}
    return client.v1.customers.create(params=params)


def _draft(client: stripe.StripeClient, customer: Any, amount: int = 1200, **extra: Any) -> Any:
    invoice = client.v1.invoices.create(params={"customer": customer.id, **extra})
    if amount:
        client.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "invoice": invoice.id,
                "amount": amount,
                "currency": "usd",
                "metadata": {"revbridge_line_id": "L1"},
            }
        )
    return client.v1.invoices.retrieve(invoice.id)


def _open(client: stripe.StripeClient, customer: Any, amount: int = 1200) -> Any:
    return client.v1.invoices.finalize_invoice(_draft(client, customer, amount).id)


def _events(client: stripe.StripeClient, invoice_id: str) -> list[str]:
    """The types of the events about one invoice (and its payments), oldest first."""
    events = client.v1.events.list(params={"limit": 100}).data
    mine = []
    for event in events:
        about = event.data.object.to_dict()
        if invoice_id in (about.get("id"), about.get("invoice")):
            mine.append(event.type)
    return mine[::-1]


def _payments(client: stripe.StripeClient, invoice_id: str) -> list[Any]:
    return list(client.v1.invoice_payments.list(params={"invoice": invoice_id}).data)


# -- legal transitions ------------------------------------------------------------------


def test_finalize_without_a_payment_method_leaves_the_invoice_open(
    client: stripe.StripeClient,
) -> None:
    customer = _customer(client, card=None)
    draft = _draft(client, customer)
    assert draft.status == "draft"

    opened = client.v1.invoices.finalize_invoice(draft.id)

    assert opened.status == "open"
    assert (opened.amount_due, opened.amount_paid, opened.amount_remaining) == (1200, 0, 1200)
    assert opened.attempt_count == 0
    assert opened.number.endswith("-0001")
    assert opened.status_transitions.finalized_at is not None
    assert opened.status_transitions.paid_at is None
    assert _events(client, draft.id) == ["invoice.created", "invoice.finalized"]
    [payment] = _payments(client, draft.id)
    assert (payment.status, payment.is_default, payment.amount_paid) == ("open", True, None)
    assert payment.amount_requested == 1200


def test_auto_advance_collection_without_a_payment_method_fails_and_retries(
    client: stripe.StripeClient,
) -> None:
    customer = _customer(client, card=None)
    draft = _draft(client, customer)

    opened = client.v1.invoices.finalize_invoice(draft.id, params={"auto_advance": True})
    assert opened.status == "open"  # Stripe charges after answering
    finalized = opened.status_transitions.finalized_at
    assert opened.next_payment_attempt == finalized
    after = client.v1.invoices.retrieve(draft.id)

    assert after.status == "open"
    assert after.attempt_count == 1
    assert after.next_payment_attempt == finalized + 3 * DAY
    assert _events(client, draft.id)[-1] == "invoice.payment_failed"


def test_pay_without_a_payment_method_is_refused_and_changes_nothing(
    client: stripe.StripeClient,
) -> None:
    invoice = _open(client, _customer(client, card=None))

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.pay(invoice.id)

    assert caught.value.http_status == 400
    assert str(caught.value.user_message).startswith(NO_METHOD)
    after = client.v1.invoices.retrieve(invoice.id)
    assert (after.status, after.attempt_count) == ("open", 0)


def test_pay_with_a_good_card_makes_the_invoice_paid_with_one_invoice_payment(
    client: stripe.StripeClient,
) -> None:
    invoice = _open(client, _customer(client))

    paid = client.v1.invoices.pay(invoice.id)

    assert paid.status == "paid"
    assert (paid.amount_paid, paid.amount_remaining, paid.attempt_count) == (1200, 0, 1)
    assert paid.auto_advance is False
    events = _events(client, invoice.id)
    assert events[-3:] == ["invoice_payment.paid", "invoice.paid", "invoice.payment_succeeded"]
    [payment] = _payments(client, invoice.id)
    assert payment.id.startswith("inpay_")
    assert payment.object == "invoice_payment"
    assert (payment.status, payment.amount_paid, payment.amount_requested) == ("paid", 1200, 1200)
    assert (payment.currency, payment.invoice, payment.livemode) == ("usd", invoice.id, False)
    assert payment.payment.type == "payment_intent"
    assert payment.payment.payment_intent.startswith("pi_")
    assert payment.status_transitions.paid_at == paid.status_transitions.paid_at
    assert payment.status_transitions.canceled_at is None
    assert client.v1.invoice_payments.retrieve(payment.id).id == payment.id


def test_pay_of_a_draft_finalizes_it_first(client: stripe.StripeClient) -> None:
    draft = _draft(client, _customer(client))

    paid = client.v1.invoices.pay(draft.id, params={"payment_method": "pm_card_visa"})

    assert paid.status == "paid"
    assert _events(client, draft.id)[1] == "invoice.finalized"


def test_declined_card_leaves_the_invoice_open_and_counts_the_attempt(
    client: stripe.StripeClient,
) -> None:
    invoice = _open(client, _customer(client, card="pm_card_chargeDeclined"))

    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)

    assert (caught.value.code, caught.value.error.decline_code) == (
        "card_declined",
        "generic_decline",
    )
    after = client.v1.invoices.retrieve(invoice.id)
    assert (after.status, after.attempt_count, after.amount_remaining) == ("open", 1, 1200)
    assert _events(client, invoice.id)[-1] == "invoice.payment_failed"
    [payment] = _payments(client, invoice.id)
    assert (payment.status, payment.amount_paid) == ("open", None)
    paid = client.v1.invoices.pay(invoice.id, params={"payment_method": "tok_visa"})
    assert (paid.status, paid.attempt_count) == ("paid", 2)


def test_auto_advance_collection_with_a_good_card_pays_right_after_finalizing(
    client: stripe.StripeClient,
) -> None:
    draft = _draft(client, _customer(client))

    opened = client.v1.invoices.finalize_invoice(draft.id, params={"auto_advance": True})
    after = client.v1.invoices.retrieve(draft.id)

    assert opened.status == "open"
    assert (after.status, after.attempt_count) == ("paid", 1)


def test_void_of_an_open_invoice_cancels_its_payment(client: stripe.StripeClient) -> None:
    invoice = _open(client, _customer(client))

    voided = client.v1.invoices.void_invoice(invoice.id)

    assert voided.status == "void"
    assert voided.status_transitions.voided_at is not None
    assert _events(client, invoice.id)[-1] == "invoice.voided"
    [payment] = _payments(client, invoice.id)
    assert payment.status == "canceled"
    assert payment.status_transitions.canceled_at == voided.status_transitions.voided_at


def test_uncollectible_invoice_can_still_be_paid(client: stripe.StripeClient) -> None:
    invoice = _open(client, _customer(client))

    marked = client.v1.invoices.mark_uncollectible(invoice.id)
    paid = client.v1.invoices.pay(invoice.id)

    assert marked.status == "uncollectible"
    assert marked.status_transitions.marked_uncollectible_at is not None
    assert paid.status == "paid"
    assert _events(client, invoice.id)[-4:] == [
        "invoice.marked_uncollectible",
        "invoice_payment.paid",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_uncollectible_invoice_whose_payment_fails_stays_uncollectible_and_can_be_voided(
    client: stripe.StripeClient,
) -> None:
    invoice = _open(client, _customer(client, card="pm_card_chargeDeclinedInsufficientFunds"))
    client.v1.invoices.mark_uncollectible(invoice.id)

    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)
    still = client.v1.invoices.retrieve(invoice.id)
    voided = client.v1.invoices.void_invoice(invoice.id)

    assert caught.value.error.decline_code == "insufficient_funds"
    assert still.status == "uncollectible"
    assert "invoice.payment_failed" in _events(client, invoice.id)
    assert voided.status == "void"


def test_paid_out_of_band_is_paid_without_a_charge(client: stripe.StripeClient) -> None:
    invoice = _open(client, _customer(client, card=None))

    paid = client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True})

    assert paid.status == "paid"
    assert paid.amount_paid == 1200
    events = _events(client, invoice.id)
    assert events[-1] == "invoice.paid"
    assert "invoice.payment_succeeded" not in events
    assert [p.status for p in _payments(client, invoice.id)] == ["canceled"]


def test_zero_amount_invoice_is_paid_when_finalized(client: stripe.StripeClient) -> None:
    draft = _draft(client, _customer(client, card=None), amount=0)

    finalized = client.v1.invoices.finalize_invoice(draft.id)

    assert finalized.status == "paid"
    assert _events(client, draft.id)[-2:] == ["invoice.paid", "invoice.payment_succeeded"]
    assert _payments(client, draft.id) == []


# -- refused transitions ----------------------------------------------------------------


def _paid(client: stripe.StripeClient) -> Any:
    return client.v1.invoices.pay(_open(client, _customer(client)).id)


def _voided(client: stripe.StripeClient) -> Any:
    return client.v1.invoices.void_invoice(_open(client, _customer(client)).id)


REFUSED = [
    (
        "finalize an open invoice",
        lambda c: c.v1.invoices.finalize_invoice(_open(c, _customer(c)).id),
        "invoice_not_editable",
        "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
    ),
    (
        "void a paid invoice",
        lambda c: c.v1.invoices.void_invoice(_paid(c).id),
        "invoice_not_editable",
        "You can only void open or uncollectible invoices; this one is paid.",
    ),
    (
        "pay a paid invoice",
        lambda c: c.v1.invoices.pay(_paid(c).id),
        "invoice_already_paid",
        "Invoice is already paid",
    ),
    (
        "pay a void invoice",
        lambda c: c.v1.invoices.pay(_voided(c).id),
        "invoice_not_editable",
        "You cannot pay a void invoice.",
    ),
    (
        "mark a draft uncollectible",
        lambda c: c.v1.invoices.mark_uncollectible(_draft(c, _customer(c)).id),
        "invoice_not_editable",
        "You can only mark open invoices as uncollectible.",
    ),
]


@pytest.mark.parametrize(("name", "act", "code", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_illegal_transition_is_an_invalid_request_error(
    client: stripe.StripeClient, name: str, act: Any, code: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        act(client)

    assert caught.value.http_status == 400
    assert caught.value.error.type == "invalid_request_error"
    assert (caught.value.code, caught.value.user_message) == (code, message)


# -- partial payments -------------------------------------------------------------------


def _intent(client: stripe.StripeClient, customer: Any, amount: int) -> Any:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )


def test_attached_payments_pay_an_invoice_in_parts(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    invoice = _open(client, customer)
    first = _intent(client, customer, 500)
    assert first.status == "succeeded"

    part = client.v1.invoices.attach_payment(invoice.id, params={"payment_intent": first.id})

    assert part.status == "open"
    assert (part.amount_paid, part.amount_remaining) == (500, 700)
    assert "invoice.paid" not in _events(client, invoice.id)
    rest = client.v1.invoices.attach_payment(
        invoice.id, params={"payment_intent": _intent(client, customer, 700).id}
    )
    assert rest.status == "paid"
    assert (rest.amount_paid, rest.amount_remaining) == (1200, 0)
    events = _events(client, invoice.id)
    assert events.count("invoice_payment.paid") == 2
    assert events.count("invoice.paid") == 1
    payments = _payments(client, invoice.id)
    assert sorted((p.is_default, p.status, p.amount_paid or 0) for p in payments) == [
        (False, "paid", 500),
        (False, "paid", 700),
        (True, "canceled", 0),
    ]
    paid_only = client.v1.invoice_payments.list(params={"invoice": invoice.id, "status": "paid"})
    assert len(paid_only.data) == 2


def test_attaching_more_than_the_amount_remaining_is_refused(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    invoice = _open(client, customer)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.attach_payment(
            invoice.id, params={"payment_intent": _intent(client, customer, 5000).id}
        )

    assert caught.value.param == "payment_intent"
    assert client.v1.invoices.retrieve(invoice.id).amount_remaining == 1200


# -- the invoice object and lists -------------------------------------------------------


def _plan(client: stripe.StripeClient, amount: int = 4900) -> Any:
    product = client.v1.products.create(params={"name": "Platform seat"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": "month"},
        }
    )


def test_invoice_carries_lines_parent_and_totals(
    client: stripe.StripeClient, base_url: str, receiver: tuple[str, Receiver]
) -> None:
    customer = _customer(client)
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": _plan(client).id, "quantity": 2}],
            "metadata": {"revbridge_order_id": "ord_1"},
        }
    )

    invoice = client.v1.invoices.retrieve(sub.latest_invoice)

    assert invoice.status == "paid"
    assert invoice.parent.subscription_details.metadata["revbridge_order_id"] == "ord_1"
    assert (invoice.total, invoice.subtotal, invoice.amount_due) == (9800, 9800, 9800)
    assert invoice.total_taxes == []
    assert invoice.number
    assert invoice.due_date is None
    [line] = invoice.lines.data
    assert (line.amount, line.currency, line.quantity) == (9800, "usd", 2)
    assert line.metadata["revbridge_order_id"] == "ord_1"
    assert line.period.end > line.period.start
    assert line.pricing.price_details.price == sub["items"].data[0].price.id
    assert line.parent.subscription_item_details.subscription_item == sub["items"].data[0].id
    httpx.post(f"{base_url}/_sandbox/webhooks/drain").raise_for_status()
    delivered = [stripe.Webhook.construct_event(b, s, SECRET) for b, s in receiver[1].bodies]
    paid = next(e for e in delivered if e.type == "invoice.paid")
    assert paid.data.object.id == invoice.id
    assert paid.data.object.lines.data[0].amount == 9800


def test_invoice_list_filters_by_status_customer_subscription_and_created(
    client: stripe.StripeClient,
) -> None:
    acme, globex = _customer(client), _customer(client, name="Globex")
    drafts = [_draft(client, acme, 100 * (i + 1)) for i in range(3)]
    client.v1.invoices.finalize_invoice(drafts[0].id)
    sub = client.v1.subscriptions.create(
        params={"customer": globex.id, "items": [{"price": _plan(client).id}]}
    )

    def ids(**params: Any) -> list[str]:
        return [i.id for i in client.v1.invoices.list(params=params).data]

    assert ids(customer=acme.id) == [d.id for d in drafts[::-1]]
    assert ids(status="open") == [drafts[0].id]
    assert ids(subscription=sub.id) == [sub.latest_invoice]
    assert ids(customer=acme.id, limit=2, starting_after=drafts[2].id) == [
        drafts[1].id,
        drafts[0].id,
    ]
    newest = client.v1.invoices.retrieve(sub.latest_invoice).created
    assert sub.latest_invoice in ids(created={"gte": newest})
    assert ids(created={"gt": newest + 10}) == []
    walked = [i.id for i in client.v1.invoices.list(params={"limit": 1}).auto_paging_iter()]
    assert len(walked) == 4


def test_subscription_for_a_customer_without_a_payment_method(
    client: stripe.StripeClient,
) -> None:
    customer = _customer(client, card=None)
    price = _plan(client)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}]}
        )
    pending = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
        }
    )

    assert str(caught.value.user_message).startswith(NO_METHOD)
    assert pending.status == "incomplete"
    invoice = client.v1.invoices.retrieve(pending.latest_invoice)
    assert (invoice.status, invoice.attempt_count) == ("open", 0)


# -- test clocks ------------------------------------------------------------------------


def _clocked_subscription(
    client: stripe.StripeClient, card: str, **extra: Any
) -> tuple[Any, Any, Any]:
    frozen = 1_767_225_600  # 2026-01-01T00:00:00Z
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": frozen})
    customer = _customer(client, card=card, test_clock=clock.id)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": _plan(client).id}], **extra}
    )
    return clock, customer, sub


def _advance(client: stripe.StripeClient, clock: Any, sub: Any, extra_s: int) -> list[Any]:
    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": end + extra_s})
    return list(client.v1.invoices.list(params={"subscription": sub.id}).data)


def test_test_clock_bills_two_periods_paid_with_a_good_card(client: stripe.StripeClient) -> None:
    clock, _, sub = _clocked_subscription(client, "pm_card_visa")

    invoices = _advance(client, clock, sub, 2 * 3600)

    assert [i.billing_reason for i in invoices] == ["subscription_cycle", "subscription_create"]
    assert [i.status for i in invoices] == ["paid", "paid"]
    assert all(i.status_transitions.finalized_at is not None for i in invoices)
    for invoice in invoices:
        [payment] = _payments(client, invoice.id)
        assert (payment.status, payment.amount_paid) == ("paid", 4900)


def test_test_clock_renewal_with_a_declining_card_fails_and_stays_open(
    client: stripe.StripeClient,
) -> None:
    clock, customer, sub = _clocked_subscription(client, "pm_card_visa")
    declining = client.v1.payment_methods.attach(
        "pm_card_chargeDeclined", params={"customer": customer.id}
    )
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": declining.id}}
    )

    renewal, first = _advance(client, clock, sub, 2 * 3600)

    assert first.status == "paid"
    assert (renewal.status, renewal.attempt_count) == ("open", 1)
    assert renewal.status_transitions.finalized_at is not None
    assert renewal.next_payment_attempt == renewal.status_transitions.finalized_at + 3 * DAY
    assert "invoice.payment_failed" in _events(client, renewal.id)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    [payment] = _payments(client, renewal.id)
    assert payment.status == "open"


def test_test_clock_send_invoice_renewal_stays_open_until_paid(
    client: stripe.StripeClient,
) -> None:
    clock, _, sub = _clocked_subscription(
        client, "pm_card_visa", collection_method="send_invoice", days_until_due=30
    )

    renewal, first = _advance(client, clock, sub, 2 * 3600)

    assert (first.status, renewal.status) == ("open", "open")
    assert renewal.attempt_count == 0
    assert renewal.due_date == renewal.status_transitions.finalized_at + 30 * DAY
    paid = client.v1.invoices.pay(renewal.id)
    assert paid.status == "paid"
