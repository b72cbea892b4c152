"""The record types the sandbox serves and the fields each accepts.

Field names follow the REST record browser (2026.1) in camelCase; like NetSuite, a body
may spell them in any case (``isclosed`` works for ``isClosed``). Custom fields
(``custentity*``, ``custbody*``, ``custcol*``, ``custitem*``) are accepted and stored
as sent. Read-only fields are listed so that sending them back is not an "unknown
field"; their values in a body are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "bool", "number", "integer", "date", "ref", "multiref", "enum"]

ITEM_TYPES = ("serviceSaleItem", "nonInventorySaleItem")
TRANSACTION_TYPES = ("salesOrder", "invoice", "customerPayment")

ORDER_STATUS_NAMES = {
    "A": "Pending Approval",
    "B": "Pending Fulfillment",
    "C": "Cancelled",
    "D": "Partially Fulfilled",
    "E": "Pending Billing/Partially Fulfilled",
    "F": "Pending Billing",
    "G": "Billed",
    "H": "Closed",
}
INVOICE_STATUS_NAMES = {"A": "Open", "B": "Paid In Full"}
PAYMENT_STATUS_NAMES = {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"}
COUNTRY_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "IE": "Ireland",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
    "CA": "Canada",
    "AU": "Australia",
    "CH": "Switzerland",
    "AT": "Austria",
    "BE": "Belgium",
    "SE": "Sweden",
    "DK": "Denmark",
    "NO": "Norway",
    "FI": "Finland",
    "PL": "Poland",
    "PT": "Portugal",
    "JP": "Japan",
    "SG": "Singapore",
    "IN": "India",
    "BR": "Brazil",
    "MX": "Mexico",
    "NZ": "New Zealand",
    "LU": "Luxembourg",
    "CZ": "Czech Republic",
}


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    label: str = ""
    #: Record types a ``ref``/``multiref`` may point at; empty = not emulated, any id.
    targets: tuple[str, ...] = ()
    #: Allowed ids (and their names) of an ``enum``.
    choices: dict[str, str] | None = None
    read_only: bool = False


@dataclass(frozen=True)
class Shape:
    """The fields of a record, a sublist line or a subrecord."""

    fields: dict[str, FieldSpec]
    sublists: dict[str, Shape] = field(default_factory=dict)
    subrecords: dict[str, Shape] = field(default_factory=dict)
    custom_prefix: str | None = None
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [*self.fields, *self.sublists, *self.subrecords]
        object.__setattr__(self, "_index", {n.lower(): n for n in names})

    def canonical(self, name: str) -> str | None:
        """The declared spelling of ``name`` (any case), or None when unknown."""
        found = self._index.get(name.lower())
        if found is not None:
            return found
        if self.custom_prefix and name.lower().startswith(self.custom_prefix):
            return name
        return None


@dataclass(frozen=True)
class RecordSpec:
    name: str
    family: Literal["entity", "transaction", "item", "list"]
    label: str
    shape: Shape


def _ref(label: str, *targets: str) -> FieldSpec:
    return FieldSpec("ref", label, targets)


TEXT = FieldSpec("text")
BOOL = FieldSpec("bool")
NUMBER = FieldSpec("number")
DATE = FieldSpec("date")
OPAQUE = FieldSpec("ref")
READ = FieldSpec("text", read_only=True)
COUNTRY = FieldSpec("enum", "Country", choices=COUNTRY_NAMES)

_COMMON = {"id": READ, "externalId": TEXT, "refName": READ, "links": READ}
_STAMPS = {"createdDate": READ, "lastModifiedDate": READ}
_DIMENSIONS = {
    "department": _ref("Department", "department"),
    "class": _ref("Class", "classification"),
    "location": _ref("Location", "location"),
}

ADDRESS = Shape(
    {
        "addr1": TEXT,
        "addr2": TEXT,
        "addr3": TEXT,
        "addressee": TEXT,
        "attention": TEXT,
        "addrPhone": TEXT,
        "city": TEXT,
        "state": TEXT,
        "zip": TEXT,
        "country": COUNTRY,
        "override": BOOL,
        "addrText": READ,
        "externalId": TEXT,
        "refName": READ,
        "links": READ,
    }
)

ADDRESS_LINE = Shape(
    {
        "id": FieldSpec("integer"),
        "internalId": READ,
        "addressId": READ,
        "label": TEXT,
        "defaultBilling": BOOL,
        "defaultShipping": BOOL,
        "isResidential": BOOL,
        "addressBookAddress_text": READ,
        "refName": READ,
        "links": READ,
    },
    subrecords={"addressBookAddress": ADDRESS},
)

CUSTOMER = RecordSpec(
    "customer",
    "entity",
    "Customer",
    Shape(
        {
            **_COMMON,
            **_STAMPS,
            "entityId": TEXT,
            "companyName": FieldSpec("text", "Company Name"),
            "isPerson": BOOL,
            "firstName": FieldSpec("text", "First Name"),
            "lastName": FieldSpec("text", "Last Name"),
            "email": TEXT,
            "phone": TEXT,
            "altEmail": TEXT,
            "comments": TEXT,
            "url": TEXT,
            "parent": _ref("Parent", "customer"),
            "subsidiary": _ref("Subsidiary", "subsidiary"),
            "currency": _ref("Currency", "currency"),
            "terms": _ref("Terms", "term"),
            "vatRegNumber": TEXT,
            "defaultTaxReg": TEXT,
            "taxable": BOOL,
            "taxItem": _ref("Tax Item", "salesTaxItem"),
            "isInactive": BOOL,
            "creditLimit": NUMBER,
            "entityStatus": OPAQUE,
            "salesRep": OPAQUE,
            "category": OPAQUE,
            "customForm": OPAQUE,
            "defaultAddress": READ,
            "balance": READ,
            "altName": READ,
        },
        sublists={"addressBook": ADDRESS_LINE},
        custom_prefix="custentity",
    ),
)

_LINE_COMMON = {
    "line": FieldSpec("integer"),
    "item": _ref("Item", *ITEM_TYPES),
    "quantity": NUMBER,
    "rate": NUMBER,
    "amount": NUMBER,
    "description": TEXT,
    "taxCode": _ref("Tax Code", "salesTaxItem"),
    **_DIMENSIONS,
    "price": OPAQUE,
    "taxAmount": READ,
    "tax1Amt": READ,
    "itemType": READ,
    "refName": READ,
    "links": READ,
}

#: SuiteTax tax details, as an external tax engine writes them with ``taxDetailsOverride``.
TAX_DETAIL = Shape(
    {
        "taxDetailsReference": TEXT,
        "lineType": TEXT,
        "lineName": TEXT,
        "taxType": TEXT,
        "taxCode": TEXT,
        "taxBasis": NUMBER,
        "taxRate": NUMBER,
        "taxAmount": NUMBER,
        "refName": READ,
        "links": READ,
    }
)

ORDER_LINE = Shape(
    {
        **_LINE_COMMON,
        "taxDetailsReference": TEXT,
        "isClosed": BOOL,
        "quantityBilled": READ,
        "amountBilled": READ,
        "revRecStartDate": DATE,
        "revRecEndDate": DATE,
        "isOpen": READ,
    },
    custom_prefix="custcol",
)

INVOICE_LINE = Shape(
    {**_LINE_COMMON, "orderLine": FieldSpec("integer"), "taxDetailsReference": TEXT},
    custom_prefix="custcol",
)

_TRANSACTION = {
    **_COMMON,
    **_STAMPS,
    **_DIMENSIONS,
    "entity": _ref("Customer", "customer"),
    "subsidiary": _ref("Subsidiary", "subsidiary"),
    "currency": _ref("Currency", "currency"),
    "terms": _ref("Terms", "term"),
    "tranId": TEXT,
    "tranDate": DATE,
    "memo": TEXT,
    "otherRefNum": TEXT,
    "email": TEXT,
    "exchangeRate": NUMBER,
    "salesRep": OPAQUE,
    "customForm": OPAQUE,
    "opportunity": OPAQUE,
    "status": READ,
    "subtotal": READ,
    "taxTotal": READ,
    "total": READ,
    "currencyName": READ,
}

SALES_ORDER = RecordSpec(
    "salesOrder",
    "transaction",
    "Sales Order",
    Shape(
        {
            **_TRANSACTION,
            "startDate": DATE,
            "endDate": DATE,
            "shipDate": DATE,
            "orderStatus": FieldSpec(
                "enum",
                "Order Status",
                choices={"A": ORDER_STATUS_NAMES["A"], "B": ORDER_STATUS_NAMES["B"]},
            ),
            "taxDetailsOverride": BOOL,
        },
        sublists={"item": ORDER_LINE, "taxDetails": TAX_DETAIL},
        custom_prefix="custbody",
    ),
)

INVOICE = RecordSpec(
    "invoice",
    "transaction",
    "Invoice",
    Shape(
        {
            **_TRANSACTION,
            "dueDate": DATE,
            "createdFrom": FieldSpec("ref", "Created From", ("salesOrder",), read_only=True),
            "amountRemaining": READ,
            "amountPaid": READ,
            "startDate": DATE,
            "endDate": DATE,
            "taxDetailsOverride": BOOL,
        },
        sublists={"item": INVOICE_LINE, "taxDetails": TAX_DETAIL},
        custom_prefix="custbody",
    ),
)

#: One line of a payment's ``apply`` sublist: an invoice and the amount applied to it.
APPLY_LINE = Shape(
    {
        "line": FieldSpec("integer"),
        "doc": FieldSpec("ref", "Applied To"),
        "apply": BOOL,
        "amount": NUMBER,
        "applyDate": READ,
        "refNum": READ,
        "type": READ,
        "total": READ,
        "due": READ,
        "currency": READ,
        "refName": READ,
        "links": READ,
    }
)

CUSTOMER_PAYMENT = RecordSpec(
    "customerPayment",
    "transaction",
    "Payment",
    Shape(
        {
            **_COMMON,
            **_STAMPS,
            **_DIMENSIONS,
            "customer": _ref("Customer", "customer"),
            "subsidiary": _ref("Subsidiary", "subsidiary"),
            "currency": _ref("Currency", "currency"),
            "tranId": TEXT,
            "tranDate": DATE,
            "memo": TEXT,
            "payment": FieldSpec("number", "Payment Amount"),
            "exchangeRate": NUMBER,
            "account": OPAQUE,
            "paymentMethod": OPAQUE,
            "paymentOption": OPAQUE,
            "checkNum": TEXT,
            "undepFunds": BOOL,
            "customForm": OPAQUE,
            "toBeEmailed": BOOL,
            "status": READ,
            "total": READ,
            "applied": READ,
            "unapplied": READ,
            "pending": READ,
            "currencyName": READ,
        },
        sublists={"apply": APPLY_LINE},
        custom_prefix="custbody",
    ),
)


def _item_spec(name: str, label: str) -> RecordSpec:
    fields = {
        **_COMMON,
        "createdDate": READ,
        "lastModifiedDate": READ,
        **_DIMENSIONS,
        "itemId": FieldSpec("text", "Item Name/Number"),
        "displayName": TEXT,
        "salesDescription": TEXT,
        "description": TEXT,
        "rate": NUMBER,
        "subsidiary": FieldSpec("multiref", "Subsidiary", ("subsidiary",)),
        "includeChildren": BOOL,
        "incomeAccount": _ref("Income Account", "account"),
        "isInactive": BOOL,
        "isTaxable": BOOL,
        "isFulfillable": BOOL,
        "taxSchedule": OPAQUE,
        "itemType": READ,
        "subtype": READ,
    }
    return RecordSpec(name, "item", label, Shape(fields, custom_prefix="custitem"))


def _segment_spec(name: str, label: str, subsidiary: FieldSpec) -> RecordSpec:
    fields = {
        **_COMMON,
        "name": FieldSpec("text", "Name"),
        "parent": _ref("Parent", name),
        "subsidiary": subsidiary,
        "includeChildren": BOOL,
        "isInactive": BOOL,
        "fullName": READ,
    }
    return RecordSpec(name, "list", label, Shape(fields))


_MULTI_SUBSIDIARY = FieldSpec("multiref", "Subsidiary", ("subsidiary",))

SPECS: dict[str, RecordSpec] = {
    spec.name: spec
    for spec in (
        CUSTOMER,
        SALES_ORDER,
        INVOICE,
        CUSTOMER_PAYMENT,
        _item_spec("serviceSaleItem", "Service Item"),
        _item_spec("nonInventorySaleItem", "Non-inventory Item"),
        RecordSpec(
            "subsidiary",
            "list",
            "Subsidiary",
            Shape(
                {
                    **_COMMON,
                    "name": FieldSpec("text", "Name"),
                    "parent": _ref("Parent", "subsidiary"),
                    "country": COUNTRY,
                    "currency": _ref("Currency", "currency"),
                    "state": TEXT,
                    "isInactive": BOOL,
                    "isElimination": READ,
                    "fullName": READ,
                }
            ),
        ),
        RecordSpec(
            "currency",
            "list",
            "Currency",
            Shape(
                {
                    **_COMMON,
                    "name": FieldSpec("text", "Name"),
                    "symbol": FieldSpec("text", "ISO Code"),
                    "displaySymbol": TEXT,
                    "isBaseCurrency": BOOL,
                    "isInactive": BOOL,
                    "exchangeRate": NUMBER,
                }
            ),
        ),
        _segment_spec("department", "Department", _MULTI_SUBSIDIARY),
        _segment_spec("classification", "Class", _MULTI_SUBSIDIARY),
        _segment_spec("location", "Location", _ref("Subsidiary", "subsidiary")),
        RecordSpec(
            "term",
            "list",
            "Term",
            Shape(
                {
                    **_COMMON,
                    "name": FieldSpec("text", "Name"),
                    "daysUntilNetDue": FieldSpec("integer"),
                    "isInactive": BOOL,
                }
            ),
        ),
        RecordSpec(
            "account",
            "list",
            "Account",
            Shape(
                {
                    **_COMMON,
                    "acctNumber": TEXT,
                    "acctName": FieldSpec("text", "Name"),
                    "acctType": TEXT,
                    "isInactive": BOOL,
                }
            ),
        ),
        RecordSpec(
            "salesTaxItem",
            "list",
            "Tax Code",
            Shape(
                {
                    **_COMMON,
                    "itemId": FieldSpec("text", "Tax Code"),
                    "rate": NUMBER,
                    "description": TEXT,
                    "isInactive": BOOL,
                }
            ),
        ),
    )
}

#: Record types whose ``refName`` is the field named here.
NAME_FIELDS = {
    "subsidiary": "name",
    "currency": "name",
    "department": "name",
    "classification": "name",
    "location": "name",
    "term": "name",
    "serviceSaleItem": "itemId",
    "nonInventorySaleItem": "itemId",
    "salesTaxItem": "itemId",
}
