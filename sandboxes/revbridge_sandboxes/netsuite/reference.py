"""The reference data a fresh NetSuite sandbox account holds (its "estate").

One OneWorld account: a parent company and three operating subsidiaries (US, UK, DE),
their currencies, departments, classes, locations, payment terms, income accounts, tax
codes and six sale items identified by external id. :data:`DEFAULT_ITEM_EXTERNAL_IDS`
is the list other code (demo data, connector tests) should read the item ids from.

Validation rules that differ between accounts live here too: which segments
(department, class, location) a record type requires, at header or line level, in which
subsidiaries (:class:`RequiredDimension`). Pass another :class:`Estate` to
``create_app(reference=...)`` to model a different account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Currency:
    id: str
    name: str
    symbol: str  # the ISO 4217 code, as NetSuite stores it in ``symbol``
    display_symbol: str


@dataclass(frozen=True)
class Subsidiary:
    id: str
    name: str
    country: str
    currency: str
    parent: str | None = None
    #: Transaction currencies allowed besides the base currency.
    extra_currencies: tuple[str, ...] = ()
    state: str | None = None

    @property
    def currencies(self) -> tuple[str, ...]:
        return (self.currency, *self.extra_currencies)


@dataclass(frozen=True)
class Segment:
    """A department, class (``classification``) or location."""

    id: str
    name: str
    subsidiary: str | None = None


@dataclass(frozen=True)
class Term:
    id: str
    name: str
    days: int


@dataclass(frozen=True)
class Account:
    id: str
    number: str
    name: str


@dataclass(frozen=True)
class TaxCode:
    id: str
    name: str
    rate: float  # percent


@dataclass(frozen=True)
class Item:
    id: str
    record_type: Literal["serviceSaleItem", "nonInventorySaleItem"]
    external_id: str
    item_id: str
    display_name: str
    rate: float
    subsidiaries: tuple[str, ...]
    income_account: str
    klass: str | None = None


@dataclass(frozen=True)
class RequiredDimension:
    """``field`` must be set on ``record_type`` (header or every line) in ``subsidiaries``.

    ``subsidiaries=None`` means every subsidiary.
    """

    record_type: str
    field: str
    level: Literal["header", "line"] = "header"
    subsidiaries: frozenset[str] | None = None

    def applies(self, record_type: str, subsidiary: str | None) -> bool:
        if record_type != self.record_type:
            return False
        return self.subsidiaries is None or subsidiary in self.subsidiaries


@dataclass(frozen=True)
class Estate:
    subsidiaries: tuple[Subsidiary, ...]
    currencies: tuple[Currency, ...]
    departments: tuple[Segment, ...]
    classes: tuple[Segment, ...]
    locations: tuple[Segment, ...]
    terms: tuple[Term, ...]
    accounts: tuple[Account, ...]
    tax_codes: tuple[TaxCode, ...]
    items: tuple[Item, ...]
    required_dimensions: tuple[RequiredDimension, ...] = field(default_factory=tuple)
    #: Income account given to new sale items that name none (accounting preference).
    default_income_account: str = "54"


OPERATING_SUBSIDIARIES = frozenset({"2", "3", "4"})

DEFAULT_REQUIRED_DIMENSIONS = (
    RequiredDimension("salesOrder", "department", "header", OPERATING_SUBSIDIARIES),
    RequiredDimension("salesOrder", "class", "line"),
)

_SELLING = ("2", "3", "4")

DEFAULT_ITEMS = (
    Item(
        "201",
        "serviceSaleItem",
        "SUB-PLATFORM-ANNUAL",
        "SUB-PLATFORM-ANNUAL",
        "Platform subscription (annual)",
        12000.0,
        _SELLING,
        "54",
        "100",
    ),
    Item(
        "202",
        "serviceSaleItem",
        "SUB-ANALYTICS-ANNUAL",
        "SUB-ANALYTICS-ANNUAL",
        "Analytics add-on (annual)",
        4800.0,
        _SELLING,
        "54",
        "100",
    ),
    Item(
        "203",
        "serviceSaleItem",
        "SVC-IMPLEMENTATION",
        "SVC-IMPLEMENTATION",
        "Implementation services (day)",
        1500.0,
        _SELLING,
        "55",
        "200",
    ),
    Item(
        "204",
        "serviceSaleItem",
        "SVC-TRAINING",
        "SVC-TRAINING",
        "Training session",
        900.0,
        _SELLING,
        "55",
        "200",
    ),
    Item(
        "205",
        "nonInventorySaleItem",
        "USG-API-CALLS",
        "USG-API-CALLS",
        "API calls (per 1,000)",
        2.0,
        _SELLING,
        "56",
        "300",
    ),
    Item(
        "206",
        "nonInventorySaleItem",
        "USG-STORAGE-GB",
        "USG-STORAGE-GB",
        "Storage (GB-month)",
        0.1,
        _SELLING,
        "56",
        "300",
    ),
)

#: External ids of the sale items every default sandbox holds (subsidiaries 2, 3, 4).
DEFAULT_ITEM_EXTERNAL_IDS: tuple[str, ...] = tuple(item.external_id for item in DEFAULT_ITEMS)

DEFAULT_ESTATE = Estate(
    subsidiaries=(
        Subsidiary("1", "Parent Company", "US", "1", state="CA"),
        Subsidiary("2", "Acme Cloud Inc.", "US", "1", parent="1", state="CA"),
        Subsidiary("3", "Acme Cloud Ltd", "GB", "2", parent="1", extra_currencies=("4",)),
        Subsidiary("4", "Acme Cloud GmbH", "DE", "4", parent="1"),
    ),
    currencies=(
        Currency("1", "US Dollar", "USD", "$"),
        Currency("2", "British Pound", "GBP", "£"),
        Currency("4", "Euro", "EUR", "€"),
    ),
    departments=(Segment("10", "Sales"), Segment("20", "Services")),
    classes=(Segment("100", "Subscription"), Segment("200", "Services"), Segment("300", "Usage")),
    locations=(Segment("1", "US", "2"), Segment("2", "UK", "3"), Segment("3", "DE", "4")),
    terms=(
        Term("1", "Net 15", 15),
        Term("2", "Net 30", 30),
        Term("3", "Net 60", 60),
        Term("4", "Due on receipt", 0),
    ),
    accounts=(
        Account("54", "4000", "Subscription Revenue"),
        Account("55", "4100", "Services Revenue"),
        Account("56", "4200", "Usage Revenue"),
    ),
    tax_codes=(
        TaxCode("-7", "-Not Taxable-", 0.0),
        TaxCode("10", "UK Standard 20%", 20.0),
        TaxCode("11", "DE Standard 19%", 19.0),
    ),
    items=DEFAULT_ITEMS,
    required_dimensions=DEFAULT_REQUIRED_DIMENSIONS,
)
