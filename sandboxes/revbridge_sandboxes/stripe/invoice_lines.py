"""``/v1/invoices/{id}/lines``: list an invoice's lines, and update one line of a draft.

``GET`` pages the lines in invoice order (``limit``, ``starting_after``). ``POST
/v1/invoices/{id}/lines/{line}`` changes ``description``, ``metadata``,
``discountable`` and ``tax_rates`` of a line of a draft invoice: on an invoice item's
line the change is made to the invoice item (its line is a view of it); on a
subscription line only that line changes. ``tax_rates`` replace the invoice's
``default_tax_rates`` for the line (an empty value returns it to the defaults), and the
invoice's taxes and totals are recomputed. The pricing parameters (``amount``,
``pricing``, ``price_data``, ``quantity``, ``period``, ``discounts``, ``tax_amounts``)
are accepted but not modelled: they change nothing.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import invoicing, tax_rates
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import ANY, Bool, Metadata, Str, metadata, spec
from revbridge_sandboxes.stripe.tables import Record
from revbridge_sandboxes.stripe.views import line, list_object

LIST = spec({}, listing=True)
UPDATE = spec(
    {
        "amount": ANY,
        "description": Str(),
        "discountable": Bool(),
        "discounts": ANY,
        "metadata": Metadata(),
        "period": ANY,
        "price_data": ANY,
        "pricing": ANY,
        "quantity": ANY,
        "tax_amounts": ANY,
        "tax_rates": tax_rates.IDS,
    }
)


def listing(call: Call) -> dict[str, Any]:
    invoice = call.state.invoices.require(call.arg("id"))
    all_lines: list[dict[str, Any]] = invoice["_lines"]
    after = call.params.get("starting_after")
    if after:
        ids = [x["id"] for x in all_lines]
        if after not in ids:
            raise StripeError.no_such("line item", after, "starting_after")
        all_lines = all_lines[ids.index(after) + 1 :]
    limit = call.params.get("limit") or 10
    url = f"/v1/invoices/{invoice['id']}/lines"
    return list_object([line(x) for x in all_lines[:limit]], url, len(all_lines) > limit)


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    invoice = state.invoices.require(call.arg("id"), "invoice")
    found = next((x for x in invoice["_lines"] if x["id"] == call.arg("line")), None)
    if found is None:
        raise StripeError.no_such("line item", call.arg("line"), "line_item_id")
    if invoice["status"] != "draft":
        raise StripeError.state(
            "You can only update lines of a draft invoice.", code="invoice_not_editable"
        )
    rates = None
    if "tax_rates" in params:
        rates = tax_rates.applicable(state, params["tax_rates"], "tax_rates")
    before = state.before(invoice)
    item_id = (found["parent"].get("invoice_item_details") or {}).get("invoice_item")
    target: Record = state.invoiceitems.rows[item_id] if item_id else found
    for key in ("description", "discountable"):
        if key in params:
            target[key] = params[key]
    if "metadata" in params:
        target["metadata"] = metadata(target.get("metadata"), params["metadata"])
    if rates is not None:
        target["_tax_rates"] = rates
    invoicing.refresh(state, invoice)
    state.emit_update("invoice.updated", invoice, before, at=state.now(invoice["test_clock"]))
    updated = next(x for x in invoice["_lines"] if x["id"] == call.arg("line"))
    return line(updated)


ROUTES: Routes = {
    "/v1/invoices/{id}/lines": {"GET": Endpoint(LIST, listing)},
    "/v1/invoices/{id}/lines/{line}": {"POST": Endpoint(UPDATE, update)},
}
