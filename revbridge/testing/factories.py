"""Builders for realistic canonical objects.

Builders are plain functions returning one fixed, realistic object (override what a test is
about with keyword arguments or ``model_copy(update=...)``)::

    order = uk_subscription_order()          # UK child account, three lines, GBP
    event = order_accepted_event(order)

Hypothesis strategies for every model are in :mod:`revbridge.testing.strategies` (hypothesis
is a development dependency; this module needs only the canonical model).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from revbridge.canonical.catalog import Product, ProductKind, RevenueTreatment
from revbridge.canonical.commerce import (
    BillingFrequency,
    Contract,
    Order,
    OrderLine,
)
from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.canonical.finance import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from revbridge.canonical.ids import ExternalRef
from revbridge.canonical.money import Money
from revbridge.canonical.party import (
    Address,
    Customer,
    LegalEntity,
    PaymentTerms,
)

CORRELATION_ID = "5d0f3a52-7c1e-4b8e-9f4a-2e6b1c9d8a70"
OPPORTUNITY = ExternalRef(system="crm", id="006Dn000004QmZtIAK")


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


def uk_legal_entity() -> LegalEntity:
    return LegalEntity(
        code="UK01",
        name="Brightwave Software Ltd",
        country="GB",
        functional_currency="GBP",
        erp_subsidiary=ExternalRef(system="erp", id="3"),
        tax_nexus=("GB",),
    )


def parent_customer() -> Customer:
    """The group's head office in the US: the parent of the UK account."""
    return Customer(
        customer_id="cus_northwind",
        name="Northwind Holdings Inc.",
        legal_entity="US01",
        billing_address=Address(
            line1="350 Fifth Avenue",
            city="New York",
            region="NY",
            postal_code="10118",
            country="US",
        ),
        tax_id="12-3456789",
        currency="USD",
        payment_terms=PaymentTerms(net_days=45),
        external_refs=(ExternalRef(system="crm", id="001Dn00000Hq1AAA"),),
    )


def uk_child_customer() -> Customer:
    """A UK subsidiary of ``parent_customer()``, billed in GBP by our UK entity."""
    office = Address(
        line1="20 Eastbourne Terrace",
        line2="Floor 4",
        city="London",
        postal_code="W2 6LG",
        country="GB",
    )
    return Customer(
        customer_id="cus_northwind_uk",
        name="Northwind Trading Ltd",
        parent_id="cus_northwind",
        legal_entity="UK01",
        billing_address=office,
        shipping_address=office,
        tax_id="GB123456789",
        currency="GBP",
        payment_terms=PaymentTerms(net_days=30),
        external_refs=(
            ExternalRef(system="crm", id="001Dn00000Hq2BBB"),
            ExternalRef(system="erp", id="1042"),
        ),
    )


def catalog() -> dict[str, Product]:
    """The three products of the realistic order, by sku."""
    products = [
        Product(
            sku="PLAT-ANNUAL",
            name="Platform subscription (annual)",
            kind=ProductKind.SUBSCRIPTION,
            revenue_treatment=RevenueTreatment.RATABLE,
            tax_code="SAAS-STD",
            external_refs=(ExternalRef(system="erp", id="item-101"),),
        ),
        Product(
            sku="IMPL-STD",
            name="Standard implementation",
            kind=ProductKind.SERVICE,
            revenue_treatment=RevenueTreatment.PERCENT_COMPLETE,
            tax_code="SVC-PRO",
        ),
        Product(
            sku="API-CALLS",
            name="API calls add-on (per call)",
            kind=ProductKind.USAGE,
            revenue_treatment=RevenueTreatment.AS_CONSUMED,
            tax_code="SAAS-USAGE",
        ),
    ]
    return {product.sku: product for product in products}


def uk_subscription_order(
    *, order_id: str = "ord_uk_0001", correlation_id: str = CORRELATION_ID, taxed: bool = True
) -> Order:
    """An annual subscription, a discounted implementation and a usage add-on, UK VAT at 20%.

    Lines: 12,000.00 + (4,500.00 - 500.00 discount) + 100,000 x 0.0125 = 17,250.00 GBP net,
    3,450.00 VAT when ``taxed``.
    """
    start, end = date(2025, 1, 1), date(2025, 12, 31)

    def vat(amount: str) -> Money | None:
        return gbp(amount) if taxed else None

    lines = (
        OrderLine.priced(
            line_id="1",
            sku="PLAT-ANNUAL",
            kind=ProductKind.SUBSCRIPTION,
            description="Platform subscription, 12 months",
            quantity=1,
            unit_price=gbp("12000.00"),
            tax=vat("2400.00"),
            service_start=start,
            service_end=end,
        ),
        OrderLine.priced(
            line_id="2",
            sku="IMPL-STD",
            kind=ProductKind.SERVICE,
            description="Standard implementation",
            quantity=1,
            unit_price=gbp("4500.00"),
            discount=gbp("500.00"),
            tax=vat("800.00"),
        ),
        OrderLine.priced(
            line_id="3",
            sku="API-CALLS",
            kind=ProductKind.USAGE,
            description="API calls, committed volume",
            quantity=100_000,
            unit_price=gbp("0.0125"),
            tax=vat("250.00"),
            service_start=start,
            service_end=end,
        ),
    )
    return Order(
        order_id=order_id,
        source=OPPORTUNITY,
        customer=uk_child_customer(),
        legal_entity="UK01",
        currency="GBP",
        lines=lines,
        contract=Contract(
            start_date=start,
            end_date=end,
            term_months=12,
            billing_frequency=BillingFrequency.ANNUAL,
            auto_renew=True,
        ),
        correlation_id=correlation_id,
    )


def order_accepted_event(order: Order) -> BusinessEvent:
    return BusinessEvent.create(
        EventType.ORDER_ACCEPTED,
        order,
        source="/revbridge/flows/quote_to_cash",
        correlationid=order.correlation_id,
    )


def invoice_for(order: Order, *, invoice_id: str = "inv_uk_0001") -> Invoice:
    """The posted invoice for the whole order, due on the customer's payment terms."""
    issued = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
    tax = order.tax_total or Money.zero(order.currency)
    terms = order.customer.payment_terms or PaymentTerms(net_days=30)
    return Invoice(
        invoice_id=invoice_id,
        order_id=order.order_id,
        customer_id=order.customer.customer_id,
        status=InvoiceStatus.POSTED,
        number="UK-2025-000187",
        currency=order.currency,
        subtotal=order.total,
        tax=tax,
        total=order.total + tax,
        amount_due=order.total + tax,
        amount_paid=Money.zero(order.currency),
        due_date=issued.date() + timedelta(days=terms.net_days),
        issued_at=issued,
    )


def payment_for(invoice: Invoice, *, payment_id: str = "pay_uk_0001") -> Payment:
    """A successful payment of the invoice's full amount due."""
    return Payment(
        payment_id=payment_id,
        invoice_id=invoice.invoice_id,
        customer_id=invoice.customer_id,
        amount=invoice.amount_due,
        status=PaymentStatus.SUCCEEDED,
        received_at=datetime(2025, 1, 28, 14, 5, tzinfo=UTC),
        method=PaymentMethod.BANK_TRANSFER,
    )
