"""Tax rates in the Stripe sandbox, through the official SDK.

The tax rate endpoints, where rates apply (subscription items, invoice items, default
rates of subscriptions and invoices), and the tax Stripe puts on invoices: line
``taxes``, ``total_taxes``, totals and the amount charged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from revbridge.testing.servers import serve
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

CARD = "pm_card_visa"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serve(create_app()) as base:
        yield base


@pytest.fixture
def client(sandbox_url: str) -> stripe.StripeClient:
    httpx.post(f"{sandbox_url}/_sandbox/reset").raise_for_status()
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": sandbox_url}, max_network_retries=0
    )


def _rate(
    client: stripe.StripeClient, percentage: str, inclusive: bool = False, **extra: Any
) -> Any:
    params: dict[str, Any] = {
        "display_name": extra.pop("display_name", "VAT"),
        "percentage": percentage,
        "inclusive": inclusive,
        **extra,
    }
    return client.v1.tax_rates.create(params=params)


def _customer(client: stripe.StripeClient, **extra: Any) -> Any:
    return client.v1.customers.create(
        params={
            "name": "Acme",
            "payment_method": CARD,
            "invoice_settings": {"default_payment_method": CARD},
            **extra,
        }
    )


def _price(client: stripe.StripeClient, amount: int = 4900, name: str = "Seat") -> Any:
    product = client.v1.products.create(params={"name": name})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": "month"},
        }
    )


def _invoice_with_items(
    client: stripe.StripeClient, amounts: list[int], rates: list[str], **extra: Any
) -> Any:
    """A draft with one invoice item per amount, each taxed by ``rates``."""
    customer = _customer(client)
    invoice = client.v1.invoices.create(params={"customer": customer.id, **extra})
    for amount in amounts:
        client.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "invoice": invoice.id,
                "amount": amount,
                "currency": "usd",
                "tax_rates": rates,
            }
        )
    return client.v1.invoices.retrieve(invoice.id)


def _taxes(line: Any) -> list[tuple[int, str, str, int]]:
    return [
        (t.amount, t.tax_behavior, t.tax_rate_details.tax_rate, t.taxable_amount)
        for t in line.taxes
    ]


# -- the tax rate endpoints -------------------------------------------------------------


def test_tax_rate_is_created_read_updated_and_listed(client: stripe.StripeClient) -> None:
    rate = _rate(client, "20", jurisdiction="DE", country="DE", tax_type="vat")

    assert rate.id.startswith("txr_")
    assert (rate.object, rate.active, rate.livemode) == ("tax_rate", True, False)
    assert (rate.percentage, rate.effective_percentage, rate.inclusive) == (20, 20, False)
    assert (rate.rate_type, rate.flat_amount, rate.jurisdiction_level) == (
        "percentage",
        None,
        None,
    )
    assert (rate.jurisdiction, rate.country, rate.tax_type) == ("DE", "DE", "vat")
    assert client.v1.tax_rates.retrieve(rate.id).display_name == "VAT"

    updated = client.v1.tax_rates.update(
        rate.id,
        params={"display_name": "MwSt", "active": False, "metadata": {"avatax": "DE-1"}},
    )

    assert (updated.display_name, updated.active, updated.metadata["avatax"]) == (
        "MwSt",
        False,
        "DE-1",
    )
    assert updated.percentage == 20
    fractional = _rate(client, "8.875", inclusive=True, display_name="Sales tax", state="NY")
    assert fractional.percentage == pytest.approx(8.875)
    listed = client.v1.tax_rates.list(params={"limit": 1})
    assert [r.id for r in listed.auto_paging_iter()] == [fractional.id, rate.id]
    inactive = client.v1.tax_rates.list(params={"active": False})
    assert [r.id for r in inactive.data] == [rate.id]
    inclusive = client.v1.tax_rates.list(params={"inclusive": True})
    assert [r.id for r in inclusive.data] == [fractional.id]
    since = client.v1.tax_rates.list(params={"created": {"gt": fractional.created}})
    assert since.data == []


def test_tax_rate_create_replays_under_the_same_idempotency_key(
    client: stripe.StripeClient,
) -> None:
    params: dict[str, Any] = {"display_name": "VAT", "percentage": "19", "inclusive": False}
    options: Any = {"idempotency_key": "txr-de-19"}

    first = client.v1.tax_rates.create(params=params, options=options)
    again = client.v1.tax_rates.create(params=params, options=options)

    assert again.id == first.id
    assert len(client.v1.tax_rates.list().data) == 1


@pytest.mark.parametrize(("field", "value"), [("percentage", "10"), ("inclusive", True)])
def test_percentage_and_inclusive_cannot_change_after_creation(
    client: stripe.StripeClient, field: str, value: Any
) -> None:
    rate = _rate(client, "20")

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.tax_rates.update(rate.id, params={field: value})

    assert caught.value.code == "parameter_unknown"
    assert str(caught.value.user_message) == f"Received unknown parameter: {field}"
    assert client.v1.tax_rates.retrieve(rate.id).percentage == 20


@pytest.mark.parametrize("percentage", ["100.5", "-1", "7.12345"])
def test_percentage_outside_0_to_100_or_past_four_places_is_refused(
    client: stripe.StripeClient, percentage: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _rate(client, percentage)

    assert caught.value.param == "percentage"
    assert client.v1.tax_rates.list().data == []


def test_unknown_tax_rate_is_a_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.tax_rates.retrieve("txr_missing")

    assert caught.value.http_status == 404
    assert str(caught.value.user_message) == "No such tax rate: 'txr_missing'"


# -- tax on invoices --------------------------------------------------------------------


def test_subscription_item_rate_taxes_its_invoice_and_the_charge_collects_the_total(
    client: stripe.StripeClient,
) -> None:
    vat = _rate(client, "20")
    customer = _customer(client)

    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": _price(client).id, "tax_rates": [vat.id]}],
            "expand": ["latest_invoice"],
        }
    )

    assert [r.id for r in sub["items"].data[0].tax_rates] == [vat.id]
    invoice = sub.latest_invoice
    [line] = invoice.lines.data
    assert _taxes(line) == [(980, "exclusive", vat.id, 4900)]
    assert (line.taxes[0].type, line.taxes[0].taxability_reason) == (
        "tax_rate_details",
        "not_available",
    )
    assert [(t.amount, t.taxable_amount) for t in invoice.total_taxes] == [(980, 4900)]
    assert (invoice.subtotal, invoice.subtotal_excluding_tax) == (4900, 4900)
    assert (invoice.total, invoice.total_excluding_tax) == (5880, 4900)
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 5880, 5880)
    [payment] = client.v1.invoice_payments.list(params={"invoice": invoice.id}).data
    assert (payment.status, payment.amount_requested, payment.amount_paid) == ("paid", 5880, 5880)


def test_invoice_item_with_its_own_rate_is_taxed_on_the_next_subscription_invoice(
    client: stripe.StripeClient,
) -> None:
    vat, reduced = _rate(client, "20"), _rate(client, "7", display_name="Reduced VAT")
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_767_225_600})
    customer = _customer(client, test_clock=clock.id)
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": _price(client).id, "tax_rates": [vat.id]}],
        }
    )
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "amount": 1050,
            "currency": "usd",
            "tax_rates": [reduced.id],
        }
    )
    assert [r.id for r in item.tax_rates] == [reduced.id]

    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": end + 7200})

    renewal, _first = client.v1.invoices.list(params={"subscription": sub.id}).data
    by_parent = {line.parent.type: line for line in renewal.lines.data}
    assert _taxes(by_parent["subscription_item_details"]) == [(980, "exclusive", vat.id, 4900)]
    assert _taxes(by_parent["invoice_item_details"]) == [(74, "exclusive", reduced.id, 1050)]
    assert renewal.total == 4900 + 1050 + 980 + 74
    assert (renewal.status, renewal.amount_paid) == ("paid", renewal.total)


def test_item_rates_replace_the_default_tax_rates(client: stripe.StripeClient) -> None:
    default, own = _rate(client, "10"), _rate(client, "20")
    customer = _customer(client)

    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "default_tax_rates": [default.id],
            "items": [
                {"price": _price(client, 1000, "Seat").id, "tax_rates": [own.id]},
                {"price": _price(client, 500, "Support").id},
            ],
            "expand": ["latest_invoice"],
        }
    )

    assert [r.id for r in sub.default_tax_rates] == [default.id]
    invoice = sub.latest_invoice
    assert [r.id for r in invoice.default_tax_rates] == [default.id]
    taxes = sorted(_taxes(line) for line in invoice.lines.data)
    assert taxes == [[(50, "exclusive", default.id, 500)], [(200, "exclusive", own.id, 1000)]]
    assert invoice.total == 1500 + 200 + 50


def test_invoice_default_rates_apply_to_items_without_their_own(
    client: stripe.StripeClient,
) -> None:
    default, own = _rate(client, "10"), _rate(client, "20")
    invoice = _invoice_with_items(client, [1000], [own.id], default_tax_rates=[default.id])
    client.v1.invoice_items.create(
        params={
            "customer": invoice.customer,
            "invoice": invoice.id,
            "amount": 300,
            "currency": "usd",
        }
    )

    invoice = client.v1.invoices.retrieve(invoice.id)

    assert sorted(_taxes(line) for line in invoice.lines.data) == [
        [(30, "exclusive", default.id, 300)],
        [(200, "exclusive", own.id, 1000)],
    ]
    cleared = client.v1.invoices.update(invoice.id, params={"default_tax_rates": ""})
    assert cleared.default_tax_rates == []
    assert cleared.total == 1300 + 200


def test_inclusive_rate_is_carved_out_of_the_amount(client: stripe.StripeClient) -> None:
    vat = _rate(client, "20", inclusive=True)

    invoice = _invoice_with_items(client, [1000], [vat.id])

    [line] = invoice.lines.data
    assert line.amount == 1000
    assert _taxes(line) == [(167, "inclusive", vat.id, 833)]
    assert (invoice.subtotal, invoice.subtotal_excluding_tax) == (1000, 833)
    assert (invoice.total, invoice.total_excluding_tax, invoice.amount_due) == (1000, 833, 1000)
    paid = client.v1.invoices.pay(invoice.id)
    assert (paid.status, paid.amount_paid) == ("paid", 1000)


def test_tax_is_rounded_per_line_and_per_rate_halves_up(client: stripe.StripeClient) -> None:
    ten = _rate(client, "10")

    halves = _invoice_with_items(client, [5, 5], [ten.id])

    # 0.5 per line rounds up to 1 on each line: 2 in all (rounding the sum would give 1)
    assert [_taxes(line)[0][0] for line in halves.lines.data] == [1, 1]
    assert [t.amount for t in halves.total_taxes] == [2]
    assert halves.total == 12
    # Stripe's own example: $0.43 and $4.84 at 15 % → $0.06 + $0.73
    fifteen = _rate(client, "15")
    example = _invoice_with_items(client, [43, 484], [fifteen.id])
    assert [_taxes(line)[0][0] for line in example.lines.data] == [6, 73]
    assert (example.subtotal, example.total) == (527, 606)


def test_several_rates_on_one_line_are_each_rounded(client: stripe.StripeClient) -> None:
    state, city = (
        _rate(client, "6.25", display_name="State"),
        _rate(client, "2.5", display_name="City"),
    )

    invoice = _invoice_with_items(client, [999], [state.id, city.id])

    [line] = invoice.lines.data
    # 999 * 6.25 % = 62.4375 → 62; 999 * 2.5 % = 24.975 → 25
    assert _taxes(line) == [(62, "exclusive", state.id, 999), (25, "exclusive", city.id, 999)]
    assert invoice.total == 999 + 62 + 25


def test_inactive_rate_is_refused_and_nothing_is_created(client: stripe.StripeClient) -> None:
    archived = _rate(client, "20", active=False)
    customer = _customer(client)
    price = _price(client)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price.id, "tax_rates": [archived.id]}],
            }
        )

    assert caught.value.param == "items[0][tax_rates][0]"
    assert "inactive" in str(caught.value.user_message)
    assert client.v1.subscriptions.list(params={"customer": customer.id}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "amount": 100,
                "currency": "usd",
                "tax_rates": [archived.id],
            }
        )
    assert client.v1.invoice_items.list(params={"customer": customer.id}).data == []


def test_rate_archived_after_it_was_applied_still_taxes_renewals(
    client: stripe.StripeClient,
) -> None:
    vat = _rate(client, "20")
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_767_225_600})
    customer = _customer(client, test_clock=clock.id)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": _price(client).id}]}
    )
    client.v1.subscriptions.update(sub.id, params={"default_tax_rates": [vat.id]})
    client.v1.tax_rates.update(vat.id, params={"active": False})

    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": end + 7200})

    renewal, first = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert first.total_taxes == []
    assert first.total == 4900
    assert [(t.amount, t.tax_rate_details.tax_rate) for t in renewal.total_taxes] == [(980, vat.id)]
    assert (renewal.total, renewal.amount_paid) == (5880, 5880)


def test_line_tax_rates_replace_the_defaults_on_a_draft(client: stripe.StripeClient) -> None:
    default, own = _rate(client, "10"), _rate(client, "20")
    invoice = _invoice_with_items(client, [1000], [], default_tax_rates=[default.id])
    [line] = invoice.lines.data
    assert _taxes(line) == [(100, "exclusive", default.id, 1000)]

    updated = client.v1.invoices.line_items.update(
        invoice.id, line.id, params={"tax_rates": [own.id]}
    )

    assert _taxes(updated) == [(200, "exclusive", own.id, 1000)]
    item_id = line.parent.invoice_item_details.invoice_item
    assert [r.id for r in client.v1.invoice_items.retrieve(item_id).tax_rates] == [own.id]
    assert client.v1.invoices.retrieve(invoice.id).total == 1200
    reset = client.v1.invoices.line_items.update(invoice.id, line.id, params={"tax_rates": ""})
    assert _taxes(reset) == [(100, "exclusive", default.id, 1000)]
    client.v1.invoices.finalize_invoice(invoice.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.line_items.update(invoice.id, line.id, params={"tax_rates": [own.id]})
    assert caught.value.code == "invoice_not_editable"


def test_rates_set_on_a_subscription_item_tax_the_next_invoice_only(
    client: stripe.StripeClient,
) -> None:
    vat = _rate(client, "20")
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_767_225_600})
    customer = _customer(client, test_clock=clock.id)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": _price(client).id}]}
    )
    item = sub["items"].data[0]

    updated = client.v1.subscription_items.update(item.id, params={"tax_rates": [vat.id]})

    assert [r.id for r in updated.tax_rates] == [vat.id]
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": item.current_period_end + 7200}
    )
    renewal, first = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert (first.total, first.amount_paid) == (4900, 4900)
    assert (renewal.total, renewal.amount_paid) == (5880, 5880)
    cleared = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item.id, "tax_rates": ""}]}
    )
    assert cleared["items"].data[0].tax_rates == []
