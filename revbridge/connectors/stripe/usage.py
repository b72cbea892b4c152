"""Usage as Stripe Billing meter events (``POST /v1/billing/meter_events``).

A metered price names its meter in ``recurring[meter]``; the meter names the event it
sums (``event_name``) and the payload keys it reads the customer and the value from
(``customer_mapping.event_payload_key``, default ``stripe_customer_id``;
``value_settings.event_payload_key``, default ``value``). A usage record is found its
meter through the product's prices (``<price_lookup_key>_<currency>``, as
``mapping.lookup_key`` spells them): all of them must bill the same meter.

The event's ``identifier`` is the record id: Stripe refuses a second event with the
same identifier for at least 24 hours, so a report resent after a lost answer is not
counted twice; such a refusal means the record is already reported. Values are whole
numbers: a non-integral quantity is refused here, before anything is sent.
"""

from __future__ import annotations

from typing import Any

from revbridge.errors import ConnectorError, DataError
from revbridge.ports import UsageReport

Record = dict[str, Any]

DEFAULT_CUSTOMER_KEY = "stripe_customer_id"
DEFAULT_VALUE_KEY = "value"
#: The ``identifier`` Stripe keeps is at most this long.
MAX_IDENTIFIER = 100


def price_keys(usage: UsageReport) -> set[str]:
    """The lookup keys of the product's prices, one per currency it is priced in."""
    return {f"{usage.price_lookup_key}_{currency.lower()}" for currency in usage.currencies}


def meter_of(usage: UsageReport, prices: dict[str, Record]) -> str:
    """The one meter the product's metered prices bill; a DataError when there is none or
    when its prices name several."""
    meters: set[str] = set()
    for price in prices.values():
        recurring = price.get("recurring")
        if not isinstance(recurring, dict) or recurring.get("usage_type") != "metered":
            continue
        if isinstance(meter := recurring.get("meter"), str):
            meters.add(meter)
    keys = ", ".join(sorted(price_keys(usage)))
    if not meters:
        raise DataError(
            f"product {usage.sku} has no metered price with a meter (lookup keys {keys})",
            code="no_meter",
        )
    if len(meters) > 1:
        raise DataError(
            f"the prices of product {usage.sku} bill several meters ({', '.join(sorted(meters))});"
            " revbridge reports a product's usage to one meter",
            code="several_meters",
        )
    return meters.pop()


def meter_event_params(usage: UsageReport, meter: Record) -> Record:
    """The meter event of ``usage``, with the payload keys ``meter`` reads."""
    if usage.quantity != usage.quantity.to_integral_value():
        raise DataError(
            f"usage record {usage.record_id}: quantity {usage.quantity} is not a whole number; "
            f"Stripe meters count whole units of product {usage.sku}",
            code="quantity_not_integral",
        )
    if len(usage.record_id) > MAX_IDENTIFIER:
        raise DataError(
            f"usage record id {usage.record_id[:40]}… is longer than {MAX_IDENTIFIER}",
            code="identifier_too_long",
        )
    customer_key = (meter.get("customer_mapping") or {}).get("event_payload_key")
    value_key = (meter.get("value_settings") or {}).get("event_payload_key")
    return {
        "event_name": meter["event_name"],
        "identifier": usage.record_id,
        "timestamp": int(usage.occurred_at.timestamp()),
        "payload": {
            customer_key or DEFAULT_CUSTOMER_KEY: usage.customer.id,
            value_key or DEFAULT_VALUE_KEY: str(int(usage.quantity)),
        },
    }


def is_duplicate(error: ConnectorError) -> bool:
    """Stripe refused the event for its identifier: one reported before (the identifiers
    sent are valid, :func:`meter_event_params` checks them)."""
    body = error.response.get("body")
    fields = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, DataError)
        and isinstance(fields, dict)
        and fields.get("param") == "identifier"
    )
