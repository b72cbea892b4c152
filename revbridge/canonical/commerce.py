"""The commercial agreement: contracts, their amendments, and the order package.

An ``Order`` is the package that crosses from the CRM to the ERP and the billing platform:
the customer, the legal entity that sells, the lines, the contract, and the correlation id
that follows it everywhere.

Only structural rules live here (an order in one currency, line amounts that add up).
Business rules, such as "a contract ends after it starts", are checked by ``rules/`` and
reported to an owner, so these models can hold an order that breaks them.

**Line amount rule.** ``OrderLine.amount`` is the line's net amount before tax:
``quantity * unit_price``, rounded half-up (``LINE_AMOUNT_ROUNDING``) to the currency's minor
unit, minus ``discount`` when there is one. The model refuses a line whose amount differs, or
whose amount, discount or tax has more decimals than the currency's minor unit, so every
consumer can trust it. ``OrderLine.priced(...)`` computes the amount for you; a source
that only gives a discounted total states the difference as ``discount``.
"""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    computed_field,
    model_validator,
)

from revbridge.canonical.catalog import ProductKind, Sku
from revbridge.canonical.ids import CanonicalId, CorrelationId, ExternalRef
from revbridge.canonical.model import CanonicalModel, Text
from revbridge.canonical.money import Currency, CurrencyMismatchError, ExactDecimal, Money
from revbridge.canonical.party import Customer, LegalEntityCode

__all__ = [
    "LINE_AMOUNT_ROUNDING",
    "Amendment",
    "AmendmentKind",
    "BillingFrequency",
    "Contract",
    "Order",
    "OrderLine",
    "line_amount",
]

LINE_AMOUNT_ROUNDING = decimal.ROUND_HALF_UP
"""How ``quantity * unit_price`` is rounded to minor units on an order line."""


class BillingFrequency(StrEnum):
    """How often a subscription is invoiced."""

    MONTHLY = "monthly"  # every calendar month of the term
    QUARTERLY = "quarterly"  # every three months
    ANNUAL = "annual"  # once a year, in advance

    @property
    def months(self) -> int:
        """Length of one billing period in months."""
        return {"monthly": 1, "quarterly": 3, "annual": 12}[self.value]


class AmendmentKind(StrEnum):
    """What an amendment changes in a running contract."""

    ADD_LINES = "add_lines"  # new products added mid-term (upsell, add-on)
    QUANTITY_CHANGE = "quantity_change"  # more or fewer units of an existing line
    PRICE_CHANGE = "price_change"  # a renegotiated unit price
    TERM_CHANGE = "term_change"  # end date moved (extension, co-terming)
    RENEWAL = "renewal"  # a new term follows the current one
    CANCELLATION = "cancellation"  # the contract ends early


class Amendment(CanonicalModel):
    """One change to a contract, effective from a date."""

    amendment_id: CanonicalId
    kind: AmendmentKind
    effective_date: date
    description: Text | None = None
    source: ExternalRef | None = None


class Contract(CanonicalModel):
    """The term of the agreement. ``end_date`` before ``start_date`` is held, not refused."""

    start_date: date
    end_date: date
    term_months: Annotated[int, Field(ge=1, le=1200)]
    billing_frequency: BillingFrequency
    auto_renew: bool = False
    amendments: tuple[Amendment, ...] = ()

    @model_validator(mode="after")
    def _amendment_ids_unique(self) -> Contract:
        _require_unique("amendment_id", [a.amendment_id for a in self.amendments])
        return self


def line_amount(quantity: Decimal | int, unit_price: Money, discount: Money | None = None) -> Money:
    """The amount an order line must carry (see the line amount rule above)."""
    gross = (unit_price * quantity).quantize(rounding=LINE_AMOUNT_ROUNDING)
    return gross if discount is None else gross - discount


class OrderLine(CanonicalModel):
    """One product on an order; every amount is in the order's currency."""

    line_id: CanonicalId
    sku: Sku
    kind: ProductKind
    description: Text | None = None
    quantity: ExactDecimal
    unit_price: Money
    discount: Money | None = None
    amount: Money
    tax: Money | None = None
    service_start: date | None = None
    service_end: date | None = None

    @classmethod
    def priced(
        cls,
        *,
        line_id: str,
        sku: str,
        kind: ProductKind,
        quantity: Decimal | int,
        unit_price: Money,
        discount: Money | None = None,
        tax: Money | None = None,
        description: str | None = None,
        service_start: date | None = None,
        service_end: date | None = None,
    ) -> OrderLine:
        """Build a line whose ``amount`` is computed by the line amount rule."""
        return cls(
            line_id=line_id,
            sku=sku,
            kind=kind,
            description=description,
            quantity=quantity,
            unit_price=unit_price,
            discount=discount,
            amount=line_amount(quantity, unit_price, discount),
            tax=tax,
            service_start=service_start,
            service_end=service_end,
        )

    @property
    def currency(self) -> Currency:
        return self.amount.currency

    @model_validator(mode="after")
    def _amount_follows_the_rule(self) -> OrderLine:
        for name in ("unit_price", "discount", "tax"):
            other: Money | None = getattr(self, name)
            if other is not None and other.currency != self.currency:
                raise CurrencyMismatchError(
                    f"line {self.line_id}: {name} is in {other.currency}, amount in {self.currency}"
                )
        for name in ("amount", "discount", "tax"):
            money: Money | None = getattr(self, name)
            if money is not None and not money.is_whole_minor_units():
                raise ValueError(
                    f"line {self.line_id}: {name} {money} has more decimals than "
                    f"{self.currency} has minor units ({self.currency.minor_units})"
                )
        expected = line_amount(self.quantity, self.unit_price, self.discount)
        if self.amount != expected:
            raise ValueError(
                f"line {self.line_id}: amount {self.amount} is not quantity * unit price"
                f"{' - discount' if self.discount else ''} rounded half-up = {expected}"
            )
        return self


_DERIVED_TOTALS = ("total", "tax_total")


class Order(CanonicalModel):
    """The order package. ``total`` and ``tax_total`` are derived from the lines."""

    order_id: CanonicalId
    source: ExternalRef
    customer: Customer
    legal_entity: LegalEntityCode | None = None
    currency: Currency
    lines: tuple[OrderLine, ...] = ()
    contract: Contract | None = None
    correlation_id: CorrelationId
    version: Annotated[int, Field(ge=1)] = 1

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Money:
        """Sum of the line amounts, before tax."""
        return Money.total((line.amount for line in self.lines), self.currency)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tax_total(self) -> Money | None:
        """Sum of the line taxes; None until every line has been taxed."""
        taxes = [line.tax for line in self.lines]
        if any(tax is None for tax in taxes):
            return None
        return Money.total((tax for tax in taxes if tax is not None), self.currency)

    @model_validator(mode="after")
    def _one_currency_unique_lines(self) -> Order:
        for line in self.lines:
            if line.currency != self.currency:
                raise CurrencyMismatchError(
                    f"line {line.line_id} is in {line.currency}; the order is in {self.currency}"
                )
        _require_unique("line_id", [line.line_id for line in self.lines])
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _stated_totals_match(cls, data: Any, handler: ModelWrapValidatorHandler[Order]) -> Order:
        """Accept ``total``/``tax_total`` in input (they are in the JSON) if they are right."""
        stated: dict[str, Any] = {}
        if isinstance(data, dict) and any(name in data for name in _DERIVED_TOTALS):
            data = dict(data)
            stated = {name: data.pop(name) for name in _DERIVED_TOTALS if name in data}
        order = handler(data)
        for name, value in stated.items():
            claimed = None if value is None else Money.model_validate(value)
            if claimed != getattr(order, name):
                raise ValueError(f"stated {name} {claimed} differs from the lines' {name}")
        return order


def _require_unique(field: str, values: list[str]) -> None:
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise ValueError(f"duplicate {field}: {', '.join(duplicates)}")
