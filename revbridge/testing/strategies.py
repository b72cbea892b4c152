"""Hypothesis strategies for every canonical model, for property tests: ``@given(orders())``.

Plural names, as in ``hypothesis.strategies``; each generates arbitrary *valid* objects.
Hypothesis is a development dependency: only tests import this module (the fixed, realistic
builders are in :mod:`revbridge.testing.factories`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from revbridge.canonical.catalog import Product, ProductKind, RevenueTreatment
from revbridge.canonical.commerce import (
    Amendment,
    AmendmentKind,
    BillingFrequency,
    Contract,
    Order,
    OrderLine,
)
from revbridge.canonical.events import DATA_MODELS, BusinessEvent, EventData, EventType
from revbridge.canonical.finance import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from revbridge.canonical.ids import ExternalRef
from revbridge.canonical.money import CURRENCY_CODES, Currency, Money
from revbridge.canonical.party import (
    ISO_3166_ALPHA2,
    Address,
    Customer,
    LegalEntity,
    PaymentTerms,
    TaxExemption,
)

_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,30}", fullmatch=True)
_NAMES = st.text(min_size=1, max_size=30)
_EXTERNAL_IDS = st.text(  # visible text, as ids.check_id_characters wants (ids, event attributes)
    st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=30
)
_SKUS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True)
_ENTITY_CODES = st.from_regex(r"[A-Z0-9][A-Z0-9_-]{0,8}", fullmatch=True)
_COUNTRIES = st.sampled_from(sorted(ISO_3166_ALPHA2))
_JURISDICTIONS = _COUNTRIES | st.builds(
    "{}-{}".format, _COUNTRIES, st.from_regex(r"[A-Z0-9]{1,3}", fullmatch=True)
)
_UUIDS = st.uuids().map(str)


def currencies() -> st.SearchStrategy[Currency]:
    return st.sampled_from(CURRENCY_CODES).map(Currency)


def decimals() -> st.SearchStrategy[Decimal]:
    """Exact decimals as money may hold them: below 10^18, with 0 to 18 places."""
    bound = Decimal("1e18") - 1
    return st.integers(0, 18).flatmap(lambda places: st.decimals(-bound, bound, places=places))


def money() -> st.SearchStrategy[Money]:
    """Arbitrary amounts (any precision) in any currency."""
    return st.builds(Money, amount=decimals(), currency=currencies())


def payable(currency: Currency) -> st.SearchStrategy[Money]:
    """Amounts in whole minor units of ``currency`` (an invoice amount, a payment)."""
    units = st.integers(-(10**12), 10**12)
    return units.map(lambda count: Money.from_minor_units(count, currency))


def external_refs() -> st.SearchStrategy[ExternalRef]:
    systems = st.sampled_from(("crm", "erp", "billing", "tax", "payments", "erp_eu"))
    return st.builds(ExternalRef, system=systems, id=_EXTERNAL_IDS)


def ref_sets() -> st.SearchStrategy[tuple[ExternalRef, ...]]:
    """At most one reference per system."""
    return st.lists(external_refs(), max_size=3, unique_by=lambda ref: ref.system).map(tuple)


def instants() -> st.SearchStrategy[datetime]:
    """Aware datetimes in UTC or another offset (the model normalises them to UTC)."""
    zones = st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    )
    return st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=zones)


def addresses() -> st.SearchStrategy[Address]:
    return st.builds(
        Address,
        line1=_NAMES,
        line2=st.none() | _NAMES,
        city=_NAMES,
        region=st.none() | _NAMES,
        postal_code=st.none() | st.text(min_size=1, max_size=20),
        country=_COUNTRIES,
    )


def customers() -> st.SearchStrategy[Customer]:
    exemptions = st.builds(
        TaxExemption,
        reason=_NAMES,
        certificate_id=st.none() | _NAMES,
        jurisdictions=st.lists(_JURISDICTIONS, max_size=3).map(tuple),
        expires_on=st.none() | st.dates(),
    )
    return st.builds(
        Customer,
        customer_id=_IDS.map("cus-{}".format),
        name=_NAMES,
        parent_id=st.none() | _IDS.map("parent-{}".format),
        legal_entity=_ENTITY_CODES,
        billing_address=addresses(),
        shipping_address=st.none() | addresses(),
        tax_id=st.none() | _NAMES,
        tax_exemption=st.none() | exemptions,
        currency=currencies(),
        payment_terms=st.none() | st.builds(PaymentTerms, net_days=st.integers(0, 120)),
        external_refs=ref_sets(),
    )


def legal_entities() -> st.SearchStrategy[LegalEntity]:
    return st.builds(
        LegalEntity,
        code=_ENTITY_CODES,
        name=_NAMES,
        country=_COUNTRIES,
        functional_currency=currencies(),
        erp_subsidiary=st.none() | external_refs(),
        tax_nexus=st.lists(_JURISDICTIONS, max_size=4).map(tuple),
    )


def products() -> st.SearchStrategy[Product]:
    return st.builds(
        Product,
        sku=_SKUS,
        name=_NAMES,
        kind=st.sampled_from(ProductKind),
        revenue_treatment=st.sampled_from(RevenueTreatment),
        tax_code=st.none() | st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True),
        external_refs=ref_sets(),
    )


def contracts() -> st.SearchStrategy[Contract]:
    """Contracts whose end may precede their start: the model holds that (rules report it)."""
    amendment = st.builds(
        Amendment,
        amendment_id=_IDS,
        kind=st.sampled_from(AmendmentKind),
        effective_date=st.dates(),
        description=st.none() | _NAMES,
        source=st.none() | external_refs(),
    )
    return st.builds(
        Contract,
        start_date=st.dates(),
        end_date=st.dates(),
        term_months=st.integers(1, 120),
        billing_frequency=st.sampled_from(BillingFrequency),
        auto_renew=st.booleans(),
        amendments=st.lists(amendment, max_size=2, unique_by=lambda a: a.amendment_id).map(tuple),
    )


@st.composite
def order_lines(draw: st.DrawFn, currency: Currency, line_id: str = "1") -> OrderLine:
    """A line whose amount follows the line amount rule, with or without discount and tax."""
    return OrderLine.priced(
        line_id=line_id,
        sku=draw(_SKUS),
        kind=draw(st.sampled_from(ProductKind)),
        description=draw(st.none() | _NAMES),
        quantity=draw(st.decimals(0, 10_000, places=draw(st.integers(0, 3)))),
        unit_price=Money(amount=draw(st.decimals(0, 100_000, places=4)), currency=currency),
        discount=draw(st.none() | payable(currency)),
        tax=draw(st.none() | payable(currency)),
        service_start=draw(st.none() | st.dates()),
        service_end=draw(st.none() | st.dates()),
    )


@st.composite
def orders(draw: st.DrawFn) -> Order:
    currency = draw(currencies())
    count = draw(st.integers(0, 4))
    return Order(
        order_id=draw(_IDS),
        source=draw(external_refs()),
        customer=draw(customers()),
        legal_entity=draw(_ENTITY_CODES),
        currency=currency,
        lines=tuple(draw(order_lines(currency, line_id=str(n + 1))) for n in range(count)),
        contract=draw(st.none() | contracts()),
        correlation_id=draw(_UUIDS),
        version=draw(st.integers(1, 50)),
    )


@st.composite
def invoices(draw: st.DrawFn) -> Invoice:
    currency = draw(currencies())
    subtotal, tax, paid = (draw(payable(currency)) for _ in range(3))
    return Invoice(
        invoice_id=draw(_IDS),
        order_id=draw(_IDS),
        customer_id=draw(_IDS),
        status=draw(st.sampled_from(InvoiceStatus)),
        number=draw(st.none() | st.text(min_size=1, max_size=20)),
        currency=currency,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        amount_due=subtotal + tax - paid,
        amount_paid=paid,
        due_date=draw(st.none() | st.dates()),
        issued_at=draw(st.none() | instants()),
        external_refs=draw(ref_sets()),
    )


def payments() -> st.SearchStrategy[Payment]:
    return st.builds(
        Payment,
        payment_id=_IDS,
        invoice_id=st.none() | _IDS,
        customer_id=_IDS,
        amount=currencies().flatmap(payable),
        status=st.sampled_from(PaymentStatus),
        received_at=st.none() | instants(),
        method=st.none() | st.sampled_from(PaymentMethod),
        external_refs=ref_sets(),
    )


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
_JSON = st.recursive(
    _JSON_SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_EXTENSION_NAMES = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda name: name not in BusinessEvent.model_fields and name != "data_base64"
)


def event_data(event_type: EventType) -> st.SearchStrategy[EventData | None]:
    """Data of the kind ``event_type`` carries, or none."""
    by_model: dict[type[object] | None, st.SearchStrategy[EventData]] = {
        Order: orders(),
        Invoice: invoices(),
        Payment: payments(),
        None: st.dictionaries(st.text(max_size=8), _JSON, max_size=4),
    }
    return st.none() | by_model[DATA_MODELS[event_type]]


@st.composite
def business_events(draw: st.DrawFn) -> BusinessEvent:
    event_type = draw(st.sampled_from(EventType))
    return BusinessEvent(
        id=draw(_EXTERNAL_IDS),
        source=draw(st.from_regex(r"/[A-Za-z0-9._~/-]{0,30}", fullmatch=True)),
        type=event_type,
        subject=draw(st.none() | _EXTERNAL_IDS),
        time=draw(instants()),
        dataschema=draw(st.none() | st.just("https://schemas.example.org/v1/Order.schema.json")),
        correlationid=draw(_UUIDS),
        causationid=draw(st.none() | _EXTERNAL_IDS),
        data=draw(event_data(event_type)),
        **draw(st.dictionaries(_EXTENSION_NAMES, _EXTERNAL_IDS, max_size=2)),
    )
