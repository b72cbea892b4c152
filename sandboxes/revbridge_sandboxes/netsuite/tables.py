"""The SuiteQL tables the sandbox answers, as rows of lower-case column names.

Values come back the way SuiteQL returns them over REST: every value is a string,
booleans are ``T``/``F``, dates use the account's ``M/D/YYYY`` format, references are
internal ids, and empty values are left out of the row. A sales order's ``status`` is
its letter (``A``…``H``), an invoice's ``A`` (open) or ``B`` (paid in full), a
customer payment's ``B`` (not deposited). ``transaction`` rows cover sales orders
(``SalesOrd``), invoices (``CustInvc``) and customer payments (``CustPymt``, whose
``foreigntotal`` is the payment amount); ``previoustransactionlinelink`` links an order
to its invoices (``linktype = 'OrdBill'``) and an invoice to the payments applied to it
(``'Payment'``, ``foreignamount`` the amount applied).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.catalog import ITEM_TYPE_IDS
from revbridge_sandboxes.netsuite.invoices import invoice_status
from revbridge_sandboxes.netsuite.orders import order_status, settle
from revbridge_sandboxes.netsuite.state import Record

Row = dict[str, str | None]

COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": (
        "id",
        "entityid",
        "companyname",
        "firstname",
        "lastname",
        "email",
        "phone",
        "externalid",
        "subsidiary",
        "currency",
        "parent",
        "terms",
        "isperson",
        "isinactive",
        "taxable",
        "datecreated",
        "lastmodifieddate",
    ),
    "transaction": (
        "id",
        "tranid",
        "type",
        "recordtype",
        "entity",
        "status",
        "externalid",
        "subsidiary",
        "currency",
        "foreigntotal",
        "foreignamountremaining",
        "foreignamountpaid",
        "foreignamountunpaid",
        "trandate",
        "duedate",
        "startdate",
        "enddate",
        "memo",
        "otherrefnum",
        "createdfrom",
        "department",
        "class",
        "location",
        "terms",
        "createddate",
        "lastmodifieddate",
    ),
    "item": (
        "id",
        "itemid",
        "displayname",
        "salesdescription",
        "externalid",
        "itemtype",
        "isinactive",
        "incomeaccount",
        "subsidiary",
        "fullname",
    ),
    "subsidiary": (
        "id",
        "name",
        "fullname",
        "country",
        "currency",
        "parent",
        "state",
        "isinactive",
        "iselimination",
    ),
    "currency": (
        "id",
        "name",
        "symbol",
        "displaysymbol",
        "isbasecurrency",
        "isinactive",
        "exchangerate",
    ),
    "department": ("id", "name", "fullname", "parent", "subsidiary", "isinactive"),
    "classification": ("id", "name", "fullname", "parent", "subsidiary", "isinactive"),
    "location": ("id", "name", "fullname", "parent", "subsidiary", "isinactive"),
    "term": ("id", "name", "daysuntilnetdue", "isinactive"),
    "account": ("id", "acctnumber", "fullname", "accttype", "isinactive"),
    "previoustransactionlinelink": (
        "previousdoc",
        "previousline",
        "previoustype",
        "nextdoc",
        "nextline",
        "nexttype",
        "linktype",
        "foreignamount",
        "linkdate",
    ),
}


def text(value: Any) -> str | None:
    """One value as SuiteQL renders it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, dict):
        if "items" in value:
            return ", ".join(str(v.get("id")) for v in value["items"]) or None
        return value.get("id")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def date_text(value: str | None) -> str | None:
    if not value:
        return None
    year, month, day = value[:10].split("-")
    return f"{int(month)}/{int(day)}/{year}"


def _plain(rec: Record, mapping: dict[str, str]) -> Row:
    return {column: text(rec.get(field)) for column, field in mapping.items()}


def _customers(account: Account) -> Iterator[Row]:
    for rec in account.state.all("customer"):
        row = _plain(
            rec,
            {
                "id": "id",
                "entityid": "entityId",
                "companyname": "companyName",
                "firstname": "firstName",
                "lastname": "lastName",
                "email": "email",
                "phone": "phone",
                "externalid": "externalId",
                "subsidiary": "subsidiary",
                "currency": "currency",
                "parent": "parent",
                "terms": "terms",
                "isperson": "isPerson",
                "isinactive": "isInactive",
                "taxable": "taxable",
            },
        )
        row["datecreated"] = date_text(rec.get("createdDate"))
        row["lastmodifieddate"] = date_text(rec.get("lastModifiedDate"))
        yield row


_TRAN_FIELDS = {
    "id": "id",
    "tranid": "tranId",
    "entity": "entity",
    "externalid": "externalId",
    "subsidiary": "subsidiary",
    "currency": "currency",
    "foreigntotal": "total",
    "memo": "memo",
    "otherrefnum": "otherRefNum",
    "createdfrom": "createdFrom",
    "department": "department",
    "class": "class",
    "location": "location",
    "terms": "terms",
}


_TYPE_CODES = {"salesOrder": "SalesOrd", "invoice": "CustInvc", "customerPayment": "CustPymt"}


def _transactions(account: Account) -> Iterator[Row]:
    for rtype, code in _TYPE_CODES.items():
        for rec in account.state.all(rtype):
            row = _plain(rec, _TRAN_FIELDS)
            row["type"], row["recordtype"] = code, rtype.lower()
            if rtype == "salesOrder":
                settle(account, rec)
                row["status"] = order_status(account, rec)
            elif rtype == "invoice":
                row["status"] = invoice_status(rec)
                row["foreignamountremaining"] = text(rec.get("amountRemaining"))
                row["foreignamountunpaid"] = text(rec.get("amountRemaining"))
                row["foreignamountpaid"] = text(rec.get("amountPaid"))
            else:
                row["status"] = "B"  # Not Deposited
                row["entity"] = text(rec.get("customer"))
                row["foreigntotal"] = text(rec.get("payment"))
            for column, field in (
                ("trandate", "tranDate"),
                ("duedate", "dueDate"),
                ("startdate", "startDate"),
                ("enddate", "endDate"),
                ("createddate", "createdDate"),
                ("lastmodifieddate", "lastModifiedDate"),
            ):
                row[column] = date_text(rec.get(field))
            yield row


def _links(account: Account) -> Iterator[Row]:
    """Billing (order line to invoice line) and payment (invoice to payment) links."""
    for invoice in account.state.all("invoice"):
        if not invoice.get("createdFrom"):
            continue
        for line in invoice.get("item") or []:
            yield {
                "previousdoc": invoice["createdFrom"]["id"],
                "previousline": text(line.get("orderLine")),
                "previoustype": "SalesOrd",
                "nextdoc": invoice["id"],
                "nextline": text(line.get("line")),
                "nexttype": "CustInvc",
                "linktype": "OrdBill",
                "foreignamount": text(line.get("amount")),
                "linkdate": date_text(invoice.get("tranDate")),
            }
    for payment in account.state.all("customerPayment"):
        for line in payment.get("apply") or []:
            if not line.get("apply"):
                continue
            yield {
                "previousdoc": line["doc"]["id"],
                "previousline": "0",
                "previoustype": "CustInvc",
                "nextdoc": payment["id"],
                "nextline": text(line.get("line")),
                "nexttype": "CustPymt",
                "linktype": "Payment",
                "foreignamount": text(line.get("amount")),
                "linkdate": date_text(payment.get("tranDate")),
            }


def _items(account: Account) -> Iterator[Row]:
    for rtype, code in ITEM_TYPE_IDS.items():
        for rec in account.state.all(rtype):
            row = _plain(
                rec,
                {
                    "id": "id",
                    "itemid": "itemId",
                    "displayname": "displayName",
                    "salesdescription": "salesDescription",
                    "externalid": "externalId",
                    "isinactive": "isInactive",
                    "incomeaccount": "incomeAccount",
                    "subsidiary": "subsidiary",
                    "fullname": "itemId",
                },
            )
            row["itemtype"] = code
            yield row


def _lists(name: str) -> Callable[[Account], Iterator[Row]]:
    fields = {c: c for c in COLUMNS[name]}
    renamed = {
        "isinactive": "isInactive",
        "iselimination": "isElimination",
        "displaysymbol": "displaySymbol",
        "isbasecurrency": "isBaseCurrency",
        "exchangerate": "exchangeRate",
        "daysuntilnetdue": "daysUntilNetDue",
        "acctnumber": "acctNumber",
        "accttype": "acctType",
        "fullname": "name",
    }
    fields.update({c: f for c, f in renamed.items() if c in fields})

    def rows(account: Account) -> Iterator[Row]:
        for rec in account.state.all(name):
            row = _plain(rec, fields)
            if name == "account":
                row["fullname"] = f"{rec.get('acctNumber', '')} {rec.get('acctName', '')}".strip()
            yield row

    return rows


ROWS: dict[str, Callable[[Account], Iterator[Row]]] = {
    "customer": _customers,
    "transaction": _transactions,
    "item": _items,
    "previoustransactionlinelink": _links,
    **{
        name: _lists(name)
        for name in (
            "subsidiary",
            "currency",
            "department",
            "classification",
            "location",
            "term",
            "account",
        )
    },
}
