"""Pure functions between Salesforce records and the canonical model, named by direction.

Canonical ids are derived from Salesforce ids so every read of the same deal yields the
same ids: ``acct-<AccountId>``, ``opp-<OpportunityId>``, ``oli-<LineItemId>``. Source
data the canonical model cannot hold at all (a product family revbridge does not sell, a
contract without a billing frequency) raises :class:`~revbridge.errors.DataError`; data
the model can hold but the business rules refuse (no billing country, a contract that
ends before it starts) is mapped as it is, for the readiness rules to report.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from revbridge.canonical import (
    Address,
    BillingFrequency,
    Contract,
    Customer,
    ExternalRef,
    InvoiceStatus,
    Money,
    Order,
    OrderLine,
    PaymentTerms,
    ProductKind,
    TaxExemption,
    correlation_id_for,
)
from revbridge.canonical.commerce import line_amount
from revbridge.connectors.wire import json_number
from revbridge.errors import DataError
from revbridge.ports import DealPackage, DealStatus, InvoiceView

Record = Mapping[str, Any]

KIND_BY_FAMILY: Mapping[str, ProductKind] = {
    "subscription": ProductKind.SUBSCRIPTION,
    "services": ProductKind.SERVICE,
    "service": ProductKind.SERVICE,
    "usage": ProductKind.USAGE,
}
FREQUENCY_BY_PICKLIST: Mapping[str, BillingFrequency] = {
    "monthly": BillingFrequency.MONTHLY,
    "quarterly": BillingFrequency.QUARTERLY,
    "annual": BillingFrequency.ANNUAL,
}
_NET_DAYS = re.compile(r"^\s*net\s*(\d{1,3})\s*$", re.IGNORECASE)
_DUE_ON_RECEIPT = "due on receipt"


def customer_id(account_id: str) -> str:
    return f"acct-{account_id}"


def order_id(opportunity_id: str) -> str:
    return f"opp-{opportunity_id}"


def deal_from_opportunity(
    system: str, opportunity: Record, items: list[Record], ancestors: Record | None
) -> DealPackage:
    """The deal package of an opportunity read with its account, lines and parent chain."""
    currency = str(opportunity["CurrencyIsoCode"])
    account = opportunity.get("Account")
    if not account:
        raise DataError(f"opportunity {opportunity['Id']} has no account", code="NO_ACCOUNT")
    customer = customer_from_account(system, account, currency)
    hierarchy = (*ancestors_from_account(system, ancestors, currency), customer)
    contract = contract_from_opportunity(opportunity)
    source = ExternalRef(system=system, id=opportunity["Id"])
    order = Order(
        order_id=order_id(opportunity["Id"]),
        source=source,
        customer=customer,
        legal_entity=None,
        currency=currency,
        lines=tuple(line_from_item(item, currency, contract) for item in items),
        contract=contract,
        correlation_id=opportunity.get("Correlation_Id__c") or correlation_id_for(source),
    )
    return DealPackage(
        order=order,
        hierarchy=hierarchy,
        stage=opportunity["StageName"],
        is_won=bool(opportunity.get("IsWon")),
        version=str(opportunity.get("SystemModstamp") or opportunity.get("LastModifiedDate") or ""),
        closed_at=_closed_at(opportunity),
        name=opportunity.get("Name"),
    )


def customer_from_account(system: str, account: Record, fallback_currency: str) -> Customer:
    """A customer from an Account record (only its own fields, not its parent's)."""
    parent = account.get("ParentId")
    return Customer(
        customer_id=customer_id(account["Id"]),
        name=account["Name"],
        parent_id=customer_id(parent) if parent else None,
        legal_entity=None,
        billing_address=address_from_account(account, "Billing"),
        shipping_address=address_from_account(account, "Shipping"),
        tax_id=account.get("Tax_Id__c") or None,
        tax_exemption=(
            TaxExemption(reason="Tax exempt in the CRM") if account.get("Tax_Exempt__c") else None
        ),
        currency=account.get("CurrencyIsoCode") or fallback_currency,
        payment_terms=payment_terms_from_picklist(account.get("Payment_Terms__c")),
        external_refs=(ExternalRef(system=system, id=account["Id"]),),
    )


def ancestors_from_account(
    system: str, record: Record | None, fallback_currency: str
) -> tuple[Customer, ...]:
    """The accounts of a ``Parent.Parent...`` chain, root first."""
    chain: list[Customer] = []
    while record:
        chain.append(customer_from_account(system, record, fallback_currency))
        record = record.get("Parent")
    return tuple(reversed(chain))


def address_from_account(account: Record, prefix: str) -> Address | None:
    """The ``Billing``/``Shipping`` address; None without a street, a city or an ISO country."""
    country = _country(account.get(f"{prefix}CountryCode"), account.get(f"{prefix}Country"))
    street = str(account.get(f"{prefix}Street") or "").strip()
    city = account.get(f"{prefix}City")
    if country is None or not street or not city:
        return None
    line1, _, rest = street.partition("\n")
    return Address(
        line1=line1.strip(),
        line2=" ".join(rest.split()) or None,
        city=city,
        region=account.get(f"{prefix}StateCode") or account.get(f"{prefix}State") or None,
        postal_code=account.get(f"{prefix}PostalCode") or None,
        country=country,
    )


def _country(code: Any, name: Any) -> str | None:
    for value in (code, name):
        if isinstance(value, str) and re.fullmatch(r"[A-Z]{2}", value.strip()):
            return value.strip()
    return None


def payment_terms_from_picklist(value: str | None) -> PaymentTerms | None:
    """``"Net 30"`` → 30 days, ``"Due on Receipt"`` → 0; None when unset or unreadable."""
    if not value:
        return None
    if value.strip().lower() == _DUE_ON_RECEIPT:
        return PaymentTerms(net_days=0)
    match = _NET_DAYS.match(value)
    return PaymentTerms(net_days=int(match.group(1))) if match else None


def line_from_item(item: Record, currency: str, contract: Contract | None) -> OrderLine:
    """An order line from an OpportunityLineItem with ``PricebookEntry.Product2``."""
    product = (item.get("PricebookEntry") or {}).get("Product2") or {}
    sku, family = product.get("ProductCode"), product.get("Family")
    if not sku:
        raise DataError(f"line item {item['Id']}: its product has no product code", code="NO_SKU")
    kind = KIND_BY_FAMILY.get(str(family or "").strip().lower())
    if kind is None:
        raise DataError(
            f"product {sku}: family {family!r} is none of Subscription, Services, Usage",
            code="UNKNOWN_PRODUCT_FAMILY",
        )
    quantity = Decimal(str(item["Quantity"]))
    unit_price = Money.of(Decimal(str(item["UnitPrice"])), currency)
    amount = Money.of(Decimal(str(item["TotalPrice"])), currency)
    gross = line_amount(quantity, unit_price)
    start = _date(item.get("ServiceDate")) or (contract.start_date if contract else None)
    runs_to_term_end = contract is not None and kind is not ProductKind.SERVICE
    return OrderLine(
        line_id=f"oli-{item['Id']}",
        sku=sku,
        kind=kind,
        description=item.get("Description") or product.get("Name") or None,
        quantity=quantity,
        unit_price=unit_price,
        discount=None if gross == amount else gross - amount,
        amount=amount,
        service_start=start,
        service_end=contract.end_date if runs_to_term_end and contract else None,
    )


def contract_from_opportunity(opportunity: Record) -> Contract | None:
    """The contract term of the opportunity; None when it has no contract start date."""
    start = _date(opportunity.get("Contract_Start_Date__c"))
    if start is None:
        return None
    end = _date(opportunity.get("Contract_End_Date__c"))
    frequency = FREQUENCY_BY_PICKLIST.get(
        str(opportunity.get("Billing_Frequency__c") or "").lower()
    )
    if end is None or frequency is None:
        missing = [
            name
            for name, value in (("end date", end), ("billing frequency", frequency))
            if value is None
        ]
        raise DataError(
            f"opportunity {opportunity['Id']}: the contract has a start date but no "
            f"{' and no '.join(missing)}",
            code="INCOMPLETE_CONTRACT",
        )
    return Contract(
        start_date=start,
        end_date=end,
        term_months=term_months(start, end),
        billing_frequency=frequency,
        auto_renew=bool(opportunity.get("Auto_Renew__c")),
    )


def term_months(start: date, end: date) -> int:
    """Calendar months from ``start`` to ``end`` inclusive, a started month counting whole.

    2025-01-01 to 2025-12-31 is 12; an end before the start gives 1 (the rules report it).
    """
    after = end + timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    if after.day < start.day:
        months -= 1
    if _add_months(start, months) < after:
        months += 1
    return min(1200, max(1, months))


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _closed_at(opportunity: Record) -> datetime | None:
    close = _date(opportunity.get("CloseDate"))
    if close is not None:
        return datetime(close.year, close.month, close.day, tzinfo=UTC)
    modified = opportunity.get("LastModifiedDate")
    return datetime.fromisoformat(modified) if isinstance(modified, str) and modified else None


def opportunity_status_record(
    opportunity_id: str, status: DealStatus, status_field: str
) -> dict[str, Any]:
    """The Opportunity update that records the integration status and the financial ids."""
    record: dict[str, Any] = {
        "attributes": {"type": "Opportunity"},
        "id": opportunity_id,
        status_field: status.status,
        "Correlation_Id__c": status.correlation_id,
    }
    for field, ref in (
        ("ERP_Order_Id__c", status.erp_order),
        ("Billing_Customer_Id__c", status.billing_customer),
        ("Billing_Subscription_Id__c", status.billing_subscription),
    ):
        if ref is not None:
            record[field] = ref.id
    return record


def account_status_record(account_id: str, erp_customer: ExternalRef) -> dict[str, Any]:
    """The Account update that records the customer's ERP id."""
    return {
        "attributes": {"type": "Account"},
        "id": account_id,
        "ERP_Customer_Id__c": erp_customer.id,
    }


# -- invoices and exception stamps ------------------------------------------------------------

#: The custom object holding a deal's billing invoices (master-detail to Opportunity).
INVOICE_OBJECT = "Billing_Invoice__c"
INVOICE_KEY_FIELD = "Billing_Invoice_Id__c"
#: The Opportunity field showing why the deal is held, and its length.
EXCEPTION_FIELD = "Integration_Exception__c"
EXCEPTION_LENGTH = 255

_INVOICE_STATUS = {
    InvoiceStatus.DRAFT: "Open",
    InvoiceStatus.POSTED: "Open",
    InvoiceStatus.PARTIALLY_PAID: "Partially Paid",
    InvoiceStatus.PAID: "Paid",
    InvoiceStatus.VOID: "Void",
    InvoiceStatus.UNCOLLECTIBLE: "Uncollectible",
}


def _failed(view: InvoiceView) -> bool:
    return view.failure is not None and view.status in (
        InvoiceStatus.POSTED,
        InvoiceStatus.PARTIALLY_PAID,
    )


def invoice_record(opportunity_id: str, view: InvoiceView) -> dict[str, Any]:
    """The ``Billing_Invoice__c`` upserted by its billing invoice id."""
    record: dict[str, Any] = {
        "Opportunity__c": opportunity_id,
        "Name": (view.number or view.invoice.id)[:80],
        "CurrencyIsoCode": str(view.total.currency),
        "Amount__c": json_number(view.total.amount),
        "Tax__c": json_number(view.tax.amount),
        "Amount_Paid__c": json_number(view.amount_paid.amount),
        "Amount_Due__c": json_number(view.amount_remaining.amount),
        "Status__c": "Payment Failed" if _failed(view) else _INVOICE_STATUS[view.status],
        "Due_Date__c": view.due_date.isoformat() if view.due_date else None,
        "Posted_Date__c": view.issued_on.isoformat() if view.issued_on else None,
        "Paid_Date__c": view.paid_on.isoformat() if view.paid_on else None,
        "Payment_Failure__c": view.failure[:255] if _failed(view) and view.failure else None,
    }
    if view.erp_invoice is not None:
        record["ERP_Invoice_Id__c"] = view.erp_invoice.id
    if view.erp_payment is not None:
        record["ERP_Payment_Id__c"] = view.erp_payment.id
    return record


def billing_status_record(opportunity_id: str, view: InvoiceView) -> dict[str, Any]:
    """The Opportunity's billing summary after this invoice (the account team's view)."""
    if _failed(view):
        status = "Payment Failed"
    elif view.status is InvoiceStatus.PAID:
        status = "Paid"
    else:
        status = "Invoiced"
    record: dict[str, Any] = {
        "attributes": {"type": "Opportunity"},
        "id": opportunity_id,
        "Billing_Status__c": status,
    }
    if view.paid_on is not None:
        record["Last_Payment_Date__c"] = view.paid_on.isoformat()
    return record


def exception_record(opportunity_id: str, text: str | None) -> dict[str, Any]:
    """The Opportunity update showing (or clearing, with None) why the deal is held."""
    if text is not None and len(text) > EXCEPTION_LENGTH:
        text = text[: EXCEPTION_LENGTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return {"attributes": {"type": "Opportunity"}, "id": opportunity_id, EXCEPTION_FIELD: text}
