"""``/v1/invoiceitems``: one-off charges (or credits) waiting for, or on, a draft invoice.

An item is priced by ``pricing[price]`` (the current API; the legacy top-level
``price`` is accepted too), ``price_data``, ``unit_amount_decimal`` times ``quantity``,
or a total ``amount`` with ``currency``. Without ``invoice`` it stays pending until
an invoice pulls it in (the next subscription invoice, or ``POST /v1/invoices``
with ``pending_invoice_items_behavior=include``). Items on finalized invoices are
frozen. An item's ``tax_rates[]`` tax its line instead of the invoice's
``default_tax_rates``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revbridge_sandboxes.stripe import invoicing, tax_rates
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import (
    ANY,
    Bool,
    DecimalStr,
    Int,
    Metadata,
    Obj,
    Str,
    apply_metadata,
    spec,
)
from revbridge_sandboxes.stripe.prices import amount_for, check_amounts, new_price
from revbridge_sandboxes.stripe.state import StripeState, require_customer
from revbridge_sandboxes.stripe.tables import Record, new_id

PERIOD = Obj({"start": Int(lo=0), "end": Int(lo=0)}, required=("start", "end"))
PRICE_DATA = Obj(
    {
        "currency": Str(3),
        "product": Str(),
        "tax_behavior": ANY,
        "unit_amount": Int(lo=0),
        "unit_amount_decimal": DecimalStr(),
    },
    required=("currency", "product"),
)
_WRITABLE: dict[str, Any] = {
    "amount": Int(),
    "description": Str(),
    "discountable": Bool(),
    "discounts": ANY,
    "metadata": Metadata(),
    "period": PERIOD,
    "price": Str(),
    "price_data": PRICE_DATA,
    "pricing": Obj({"price": Str()}),
    "quantity": Int(lo=0),
    "quantity_decimal": DecimalStr(),
    "tax_behavior": ANY,
    "tax_code": ANY,
    "tax_rates": tax_rates.IDS,
    "unit_amount_decimal": DecimalStr(),
}
CREATE = spec(
    {
        **_WRITABLE,
        "currency": Str(3),
        "customer": Str(),
        "customer_account": Str(),
        "invoice": Str(),
        "subscription": Str(),
    },
    required=("customer",),
)
UPDATE = spec({**_WRITABLE, "invoicing_rules": ANY})
LIST = spec(
    {"customer": Str(), "customer_account": Str(), "invoice": Str(), "pending": Bool()},
    listing=True,
)


def new_item(
    state: StripeState,
    customer: Record,
    at: int,
    *,
    price: Record | None = None,
    sub: Record | None = None,
    quantity: int = 1,
    amount: int | None = None,
    currency: str | None = None,
    unit: Decimal | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    period: dict[str, int] | None = None,
    discountable: bool | None = None,
    tax_rates: list[str] | None = None,
) -> Record:
    """Store a checked invoice item and emit ``invoiceitem.created``."""
    if price is not None:
        amount, currency = amount_for(price, quantity), price["currency"]
        unit = Decimal(price["unit_amount_decimal"] or 0)
        product = state.products.get(price["product"]) or {}
        description = description or product.get("name")
    elif unit is not None:
        amount = int((unit * quantity).to_integral_value())
    if amount is None or currency is None:
        raise StripeError.missing("amount" if amount is None else "currency")
    if unit is None:
        unit = Decimal(amount) / quantity if quantity else Decimal(0)
    parent = None
    if sub is not None:
        parent = {
            "subscription_details": {"subscription": sub["id"], "subscription_item": None},
            "type": "subscription_details",
        }
    item: Record = {
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer["id"],
        "date": at,
        "description": description,
        "discountable": amount >= 0 if discountable is None else discountable,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "net_amount": amount,
        "parent": parent,
        "period": period or {"end": at, "start": at},
        "pricing": _pricing(price, unit),
        "proration": False,
        "proration_details": {"discount_amounts": []},
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": customer.get("test_clock"),
        "_line_id": new_id("il"),
        "_tax_rates": list(tax_rates or []),
    }
    if customer.get("currency") is None:
        customer["currency"] = currency
    state.invoiceitems.add(item)
    state.emit("invoiceitem.created", item, at=at)
    return item


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    customer = require_customer(state, params["customer"])
    invoice = _draft_for(state, params["invoice"], customer) if params.get("invoice") else None
    sub = None
    if params.get("subscription"):
        sub = state.subscriptions.require(params["subscription"], "subscription")
        if sub["customer"] != customer["id"]:
            raise StripeError.invalid(
                "The subscription does not belong to this customer.", param="subscription"
            )
    price, currency = _price_of(state, params)
    rates = tax_rates.applicable(state, params.get("tax_rates"), "tax_rates")
    expected = invoice["currency"] if invoice is not None else customer.get("currency")
    if expected not in (None, currency):
        raise StripeError.state(
            f"The currency {currency} does not match the currency {expected} of the "
            f"{'invoice' if invoice is not None else 'customer'}.",
            param="currency",
        )
    at = state.now(customer.get("test_clock"))
    item = new_item(
        state,
        customer,
        at,
        price=price,
        sub=sub,
        quantity=int(params["quantity"]) if params.get("quantity") is not None else 1,
        amount=params.get("amount"),
        currency=currency,
        unit=params.get("unit_amount_decimal"),
        description=params.get("description"),
        metadata=params.get("metadata"),
        period=params.get("period"),
        discountable=params.get("discountable"),
        tax_rates=rates,
    )
    if invoice is not None:
        invoicing.attach_item(state, invoice, item)
        invoicing.refresh(state, invoice)
    return render(call, item)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.invoiceitems.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    item = _editable(state, call.arg("id"))
    repriced = any(k in params for k in ("amount", "price", "pricing", "price_data", "quantity"))
    repriced = repriced or "unit_amount_decimal" in params
    if repriced:
        merged = {"currency": item["currency"], **params}
        if not any(k in params for k in ("amount", "price", "pricing", "price_data")):
            merged.setdefault(
                "unit_amount_decimal", Decimal(item["pricing"]["unit_amount_decimal"])
            )
        price, _ = _price_of(state, merged)
        quantity = (
            int(params["quantity"]) if params.get("quantity") is not None else item["quantity"]
        )
        if price is not None:
            item["amount"] = amount_for(price, quantity)
            item["pricing"] = _pricing(price, Decimal(price["unit_amount_decimal"] or 0))
        elif merged.get("unit_amount_decimal") is not None:
            unit = merged["unit_amount_decimal"]
            item["amount"] = int((unit * quantity).to_integral_value())
            item["pricing"] = _pricing(None, unit)
        else:
            item["amount"] = params["amount"]
            item["pricing"] = _pricing(None, Decimal(item["amount"]) / (quantity or 1))
        item["quantity"], item["quantity_decimal"] = quantity, str(quantity)
        item["net_amount"] = item["amount"]
    for key in ("description", "discountable", "period"):
        if key in params:
            item[key] = params[key]
    if "tax_rates" in params:
        item["_tax_rates"] = tax_rates.applicable(state, params["tax_rates"], "tax_rates")
    apply_metadata(item, params)
    _refresh_invoice(state, item)
    return render(call, item)


def delete(call: Call) -> dict[str, Any]:
    state = call.state
    item = _editable(state, call.arg("id"))
    state.emit("invoiceitem.deleted", item)
    state.invoiceitems.remove(item["id"])
    if item["invoice"]:
        invoice = state.invoices.get(item["invoice"])
        if invoice is not None:
            invoice["_items"].remove(item["id"])
            invoicing.refresh(state, invoice)
    return {"id": item["id"], "object": "invoiceitem", "deleted": True}


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    customer, invoice, pending = (
        params.get("customer"),
        params.get("invoice"),
        params.get("pending"),
    )

    def match(item: Record) -> bool:
        if customer is not None and item["customer"] != customer:
            return False
        if invoice is not None and item["invoice"] != invoice:
            return False
        return pending is None or (item["invoice"] is None) == pending

    return page(call, call.state.invoiceitems, "/v1/invoiceitems", match)


def _price_of(state: StripeState, params: dict[str, Any]) -> tuple[Record | None, str]:
    """The price and currency an item's params name; raises when none is given."""
    price_id = (params.get("pricing") or {}).get("price") or params.get("price")
    if price_id is not None:
        param = "pricing[price]" if params.get("pricing") else "price"
        price = state.prices.require(price_id, param)
        if price["type"] != "one_time":
            raise StripeError.invalid(
                "The price specified is set to `type=recurring` but this field only accepts "
                "prices with `type=one_time`.",
                param=param,
            )
        return price, price["currency"]
    data = params.get("price_data")
    if data is not None:
        state.products.require(data["product"], "price_data[product]")
        check_amounts(data, "price_data")
        return new_price(state, {**data, "active": False}), str(data["currency"]).lower()
    if params.get("amount") is None and params.get("unit_amount_decimal") is None:
        raise StripeError.invalid(
            "You must specify either `amount`, `pricing`, `price_data`, or `unit_amount_decimal`.",
            param="amount",
            code="parameter_missing",
        )
    if params.get("currency") is None:
        raise StripeError.missing("currency")
    return None, str(params["currency"]).lower()


def _pricing(price: Record | None, unit: Decimal) -> dict[str, Any]:
    details = {"price": price["id"], "product": price["product"]} if price else None
    text = format(unit.normalize(), "f") if unit == unit.to_integral_value() else str(unit)
    return {"price_details": details, "type": "price_details", "unit_amount_decimal": text}


def _draft_for(state: StripeState, invoice_id: str, customer: Record) -> Record:
    invoice = state.invoices.require(invoice_id, "invoice")
    if invoice["customer"] != customer["id"]:
        raise StripeError.invalid("The invoice does not belong to this customer.", param="invoice")
    if invoice["status"] != "draft":
        raise StripeError.state(
            "Invoice items can only be added to draft invoices.",
            param="invoice",
            code="invoice_not_editable",
        )
    return invoice


def _editable(state: StripeState, item_id: str) -> Record:
    item = state.invoiceitems.require(item_id)
    if item.get("_frozen"):
        raise StripeError.state(
            "Invoice items attached to a finalized invoice cannot be modified or deleted.",
            code="invoice_not_editable",
        )
    return item


def _refresh_invoice(state: StripeState, item: Record) -> None:
    invoice = state.invoices.get(item["invoice"]) if item["invoice"] else None
    if invoice is not None:
        invoicing.refresh(state, invoice)


ROUTES: Routes = {
    "/v1/invoiceitems": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/invoiceitems/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(spec({}), delete),
    },
}
