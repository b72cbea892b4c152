"""``/v1/tax_rates``: manual tax rates (``txr_…``) and applying them to billing objects.

A tax rate is a percentage (0 to 100, at most four decimal places) that is either
``inclusive`` (already inside the amounts it applies to) or exclusive (added on top).
``percentage`` and ``inclusive`` are fixed at creation: the update endpoint does not
accept them (``Received unknown parameter: percentage``), as in Stripe. Tax rates are
never deleted; ``active=false`` archives one: it can no longer be newly applied, but
the subscriptions, items and invoices that already carry it keep using it.

Rates are applied with ``tax_rates[]`` (subscription items, invoice items) and
``default_tax_rates[]`` (subscriptions, invoices); :func:`applicable` checks such a
list. How an applied rate becomes tax on an invoice is :mod:`.taxes`'.

Lists (``GET /v1/tax_rates``) filter by ``active``, ``inclusive`` and ``created``,
newest first, paged with ``limit``/``starting_after``/``ending_before``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import (
    Arr,
    Bool,
    DecimalStr,
    Enum,
    Field,
    Metadata,
    Str,
    apply_metadata,
    assign,
    spec,
)
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id

MAX_PLACES = 4
#: ``tax_rates[]`` / ``default_tax_rates[]``: rate ids (empty string: none)
IDS = Arr(Str(), max_items=10)
TAX_TYPES = (
    "admissions_tax",
    "amusement_tax",
    "attendance_tax",
    "communications_tax",
    "digital_excise_tax",
    "entertainment_tax",
    "get_fund",
    "gross_receipts_tax",
    "gst",
    "hospitality_tax",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "luxury_tax",
    "mass_transit_parking_tax",
    "nhil",
    "parking_tax",
    "pst",
    "qst",
    "resort_tax",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "tourism_tax",
    "utility_users_tax",
    "vat",
)


class Percentage(Field):
    """A percentage out of 100: a decimal in [0, 100] with at most four places."""

    def coerce(self, value: Any, name: str) -> Any:
        number = DecimalStr().coerce(value, name)
        if number is None:
            return None
        if number < 0 or number > 100:
            raise StripeError.invalid(
                "Invalid percentage: must be between 0 and 100 inclusive.", param=name
            )
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_PLACES:
            raise StripeError.invalid(
                f"Invalid percentage: must have at most {MAX_PLACES} decimal places.",
                param=name,
            )
        return number


_WRITABLE: dict[str, Field] = {
    "active": Bool(),
    "country": Str(2),
    "description": Str(),
    "display_name": Str(50),
    "jurisdiction": Str(50),
    "metadata": Metadata(),
    "state": Str(2),
    "tax_type": Enum(*TAX_TYPES),
}
CREATE = spec(
    {**_WRITABLE, "inclusive": Bool(), "percentage": Percentage()},
    required=("display_name", "inclusive", "percentage"),
)
UPDATE = spec(_WRITABLE)
LIST = spec({"active": Bool(), "inclusive": Bool()}, listing=True)
FIELDS = ("country", "description", "display_name", "jurisdiction", "state", "tax_type")


def percentage_of(rate: Record) -> Decimal:
    """The exact percentage of a stored rate (the public ``percentage`` is a JSON number)."""
    return Decimal(rate["_percentage"])


def applicable(state: StripeState, ids: list[Any] | None, param: str) -> list[str]:
    """The ids of a ``tax_rates[]``/``default_tax_rates[]`` list, each an active rate.

    An archived rate cannot be newly applied; one already applied stays (the caller
    keeps what it has when the parameter is not sent).
    """
    found: list[str] = []
    for index, rate_id in enumerate(ids or []):
        if rate_id is None:
            continue
        name = f"{param}[{index}]"
        rate = state.tax_rates.require(rate_id, name)
        if not rate["active"]:
            raise StripeError.invalid(
                f"Tax rate `{rate_id}` is inactive. Inactive tax rates cannot be applied to "
                "new objects.",
                param=name,
            )
        if rate_id not in found:
            found.append(rate_id)
    return found


def rates_of(state: StripeState, ids: list[str] | None) -> list[Record]:
    """The stored rates behind a list of ids (ids of rates no longer stored are skipped)."""
    rates = (state.tax_rates.get(i) for i in ids or [])
    return [r for r in rates if r is not None]


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    percentage: Decimal = params["percentage"]
    shown = int(percentage) if percentage == percentage.to_integral_value() else float(percentage)
    rate: Record = {
        "id": new_id("txr"),
        "object": "tax_rate",
        "active": params.get("active") is not False,
        "country": None,
        "created": state.now(),
        "description": None,
        "display_name": params["display_name"],
        "effective_percentage": shown,
        "flat_amount": None,
        "inclusive": bool(params["inclusive"]),
        "jurisdiction": None,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": {},
        "percentage": shown,
        "rate_type": "percentage",
        "state": None,
        "tax_type": None,
        "_percentage": format(percentage.normalize(), "f"),
    }
    assign(rate, params, FIELDS)
    apply_metadata(rate, params)
    state.tax_rates.add(rate)
    state.emit("tax_rate.created", rate)
    return render(call, rate)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.tax_rates.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    rate = state.tax_rates.require(call.arg("id"))
    if "display_name" in params and params["display_name"] is None:
        raise StripeError.invalid("You cannot unset `display_name`.", param="display_name")
    before = state.before(rate)
    assign(rate, params, FIELDS)
    if params.get("active") is not None:
        rate["active"] = params["active"]
    apply_metadata(rate, params)
    state.emit_update("tax_rate.updated", rate, before)
    return render(call, rate)


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    wanted = {k: params[k] for k in ("active", "inclusive") if params.get(k) is not None}

    def match(rate: Record) -> bool:
        return all(rate[k] == v for k, v in wanted.items())

    return page(call, call.state.tax_rates, "/v1/tax_rates", match)


ROUTES: Routes = {
    "/v1/tax_rates": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/tax_rates/{id}": {"GET": Endpoint(spec({}), retrieve), "POST": Endpoint(UPDATE, update)},
}
