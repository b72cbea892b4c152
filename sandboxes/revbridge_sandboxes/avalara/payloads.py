"""Reading AvaTax request bodies the way its JSON model binder does.

Property names match case-insensitively (``"SingleLocation"`` and ``"singleLocation"``
are the same), unknown properties are ignored, strings holding numbers or booleans are
converted (``"commit": "true"``, ``"amount": "100"``) and enums take their name in any
case or their number. Values that cannot be converted are reported together as
``ModelStateInvalid`` details; missing required values as ``ValueRequiredError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from starlette.requests import Request

from revbridge_sandboxes.avalara import errors
from revbridge_sandboxes.avalara.errors import ErrorDetail

MAX_BODY = 8 << 20
#: Largest magnitude accepted for a number; keeps cent arithmetic exact.
MAX_AMOUNT = Decimal("1e20")

DOCUMENT_TYPES: tuple[str, ...] = (
    "SalesOrder",
    "SalesInvoice",
    "PurchaseOrder",
    "PurchaseInvoice",
    "ReturnOrder",
    "ReturnInvoice",
    "InventoryTransferOrder",
    "InventoryTransferInvoice",
    "ReverseChargeOrder",
    "ReverseChargeInvoice",
    "CustomsInvoice",
    "CustomsOrder",
    "InventoryTransferOutboundInvoice",
    "InventoryTransferOutboundOrder",
)
ADJUSTMENT_REASONS: tuple[str, ...] = (
    "NotAdjusted",
    "SourcingIssue",
    "ReconciledWithGeneralLedger",
    "ExemptCertApplied",
    "PriceAdjusted",
    "ProductReturned",
    "ProductExchanged",
    "BadDebt",
    "Other",
    "Offline",
)
VOID_REASONS = ("Unspecified", "PostFailed", "DocDeleted", "DocVoided", "AdjustmentCancelled")
ADDRESS_KINDS: tuple[str, ...] = (
    "singleLocation",
    "shipFrom",
    "shipTo",
    "pointOfOrderOrigin",
    "pointOfOrderAcceptance",
    "goodsPlaceOrServiceRendered",
    "import",
    "billTo",
)


def is_recorded(document_type: str) -> bool:
    """Invoice types are saved; order types are estimates AvaTax does not record."""
    return document_type.endswith("Invoice")


@dataclass(frozen=True)
class AddressInput:
    line1: str = ""
    line2: str = ""
    line3: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    postal_code: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True)
class LineInput:
    number: str
    amount: Decimal
    quantity: Decimal
    tax_code: str
    item_code: str
    description: str
    tax_included: bool
    exemption_code: str
    entity_use_code: str
    ref1: str
    ref2: str
    revenue_account: str
    addresses: Mapping[str, AddressInput]


@dataclass(frozen=True)
class TransactionInput:
    type: str
    code: str
    company_code: str
    date: date
    customer_code: str
    currency_code: str
    commit: bool
    exemption_no: str
    entity_use_code: str
    purchase_order_no: str
    reference_code: str
    salesperson_code: str
    description: str
    email: str
    batch_code: str
    business_identification_no: str
    reporting_location_code: str
    addresses: Mapping[str, AddressInput]
    lines: tuple[LineInput, ...]


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"Unexpected character encountered while parsing value: {name}")


async def read_json(request: Request) -> Any:
    """The parsed body (floats as ``Decimal``); empty → ModelRequired, broken → JsonFormat."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise errors.invalid_request(
            [ErrorDetail("EntityLimitExceeded", 10, "Request too large.", "Body over 8 MiB.")]
        )
    if not body.strip():
        raise errors.model_required()
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise errors.json_format(exc.msg, exc.lineno, exc.colno) from None
    except ValueError as exc:
        raise errors.json_format(str(exc), 1, 1) from None


class Reader:
    """One JSON object read case-insensitively; conversion problems go to ``errors``."""

    def __init__(self, value: Mapping[str, Any], path: str, found: list[ErrorDetail]) -> None:
        self._fields = {str(k).casefold(): v for k, v in value.items()}
        self.path = path
        self.errors = found

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: str) -> Any:
        return self._fields.get(name.casefold())

    def bad(self, name: str, value: Any, expected: str) -> None:
        self.errors.append(errors.model_state_invalid(self.at(name), value, expected))

    def text(self, name: str) -> str:
        value = self.raw(name)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, str | int | Decimal):
            return str(value)
        self.bad(name, value, "String")
        return ""

    def number(self, name: str) -> Decimal | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, int | Decimal | str) and not isinstance(value, bool):
            try:
                result = Decimal(str(value).strip())
            except InvalidOperation:
                result = Decimal("NaN")
            if result.is_finite() and abs(result) < MAX_AMOUNT:
                return result
        self.bad(name, value, "Decimal")
        return None

    def flag(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, int):
            return value != 0
        self.bad(name, value, "Boolean")
        return None

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            match = next((c for c in choices if c.lower() == value.strip().lower()), None)
            if match is not None:
                return match
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(choices):
            return choices[value]
        self.bad(name, value, "Enum")
        return None

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
            except ValueError:
                pass
        self.bad(name, value, "DateTime")
        return None

    def child(self, name: str) -> Reader | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, dict):
            return Reader(value, self.at(name), self.errors)
        self.bad(name, value, "Object")
        return None

    def items(self, name: str) -> list[Any] | None:
        value = self.raw(name)
        if value is None or isinstance(value, list):
            return value
        self.bad(name, value, "Array")
        return None


def read_address(r: Reader) -> AddressInput:
    return AddressInput(
        line1=r.text("line1").strip(),
        line2=r.text("line2").strip(),
        line3=r.text("line3").strip(),
        city=r.text("city").strip(),
        region=r.text("region").strip(),
        country=r.text("country").strip(),
        postal_code=r.text("postalCode").strip(),
        latitude=r.number("latitude"),
        longitude=r.number("longitude"),
    )


def _addresses(parent: Reader) -> dict[str, AddressInput]:
    holder = parent.child("addresses")
    if holder is None:
        return {}
    found = {}
    for kind in ADDRESS_KINDS:
        r = holder.child(kind)
        if r is not None:
            found[kind] = read_address(r)
    return found


def _line(r: Reader, index: int) -> LineInput:
    amount = r.number("amount")
    if amount is None and r.raw("amount") is None:
        r.errors.append(errors.value_required(r.at("amount")))
    quantity = r.number("quantity")
    return LineInput(
        number=r.text("number") or str(index + 1),
        amount=amount if amount is not None else Decimal(0),
        quantity=quantity if quantity else Decimal(1),
        tax_code=r.text("taxCode").strip(),
        item_code=r.text("itemCode"),
        description=r.text("description"),
        tax_included=bool(r.flag("taxIncluded")),
        exemption_code=r.text("exemptionCode").strip(),
        entity_use_code=(r.text("entityUseCode") or r.text("customerUsageType")).strip(),
        ref1=r.text("ref1"),
        ref2=r.text("ref2"),
        revenue_account=r.text("revenueAccount"),
        addresses=_addresses(r),
    )


def read_transaction(value: Any, path: str = "") -> TransactionInput:
    """A ``CreateTransactionModel``; raises the AvaTax error for what is wrong with it."""
    if not isinstance(value, dict):
        raise errors.model_required()
    found: list[ErrorDetail] = []
    r = Reader(value, path, found)
    raw_lines = r.items("lines") or []
    lines = []
    for index, item in enumerate(raw_lines):
        if isinstance(item, dict):
            lines.append(_line(Reader(item, r.at(f"lines[{index}]"), found), index))
        else:
            r.bad(f"lines[{index}]", item, "LineItemModel")
    customer_code = r.text("customerCode").strip()
    when = r.day("date")
    if not customer_code and not isinstance(r.raw("customerCode"), dict | list):
        found.append(errors.value_required(r.at("customerCode")))
    if when is None and r.raw("date") is None:
        found.append(errors.value_required(r.at("date")))
    model = TransactionInput(
        type=r.choice("type", DOCUMENT_TYPES) or "SalesOrder",
        code=r.text("code").strip(),
        company_code=r.text("companyCode").strip(),
        date=when or date.min,
        customer_code=customer_code,
        currency_code=r.text("currencyCode").strip().upper(),
        commit=bool(r.flag("commit")),
        exemption_no=r.text("exemptionNo").strip(),
        entity_use_code=(r.text("entityUseCode") or r.text("customerUsageType")).strip(),
        purchase_order_no=r.text("purchaseOrderNo"),
        reference_code=r.text("referenceCode"),
        salesperson_code=r.text("salespersonCode"),
        description=r.text("description"),
        email=r.text("email"),
        batch_code=r.text("batchCode"),
        business_identification_no=r.text("businessIdentificationNo"),
        reporting_location_code=r.text("reportingLocationCode"),
        addresses=_addresses(r),
        lines=tuple(lines),
    )
    if found:
        raise errors.invalid_request(found)
    if not model.lines:
        raise errors.missing_line()
    return model


def read_object(value: Any) -> Reader:
    if not isinstance(value, dict):
        raise errors.model_required()
    return Reader(value, "", [])


def read_adjustment(value: Any, model_field: str) -> tuple[TransactionInput, str | None, str]:
    """``CreateOrAdjustTransactionModel`` / ``AdjustTransactionModel``: model, reason, text."""
    r = read_object(value)
    reason = r.choice("adjustmentReason", ADJUSTMENT_REASONS)
    description = r.text("adjustmentDescription")
    inner = r.raw(model_field)
    if r.errors:
        raise errors.invalid_request(r.errors)
    if inner is None:
        raise errors.invalid_request([errors.value_required(model_field)])
    return read_transaction(inner, model_field), reason, description


def read_required(value: Any, name: str, kind: str) -> str | bool:
    """The one required field of a commit (``commit``) or void (``code``) request."""
    r = read_object(value)
    result: str | bool | None = r.flag(name) if kind == "flag" else r.choice(name, VOID_REASONS)
    if r.errors:
        raise errors.invalid_request(r.errors)
    if result is None:
        raise errors.invalid_request([errors.value_required(name)])
    return result
