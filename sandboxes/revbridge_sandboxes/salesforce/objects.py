"""The objects this sandbox knows, field by field, as an org set up for revbridge has them.

Multi-currency and state/country picklists are on. The custom fields revbridge relies on
are declared in :mod:`.custom_fields`, including those of the one custom object,
``Billing_Invoice__c`` (key prefix ``a0B``): a detail of Opportunity with only its standard
fields here (``Name``, currency, audit fields; no owner, as the master owns it). Unknown
fields, custom or not, are refused with ``INVALID_FIELD`` exactly as a real org refuses
fields it does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from revbridge_sandboxes.salesforce.custom_fields import CUSTOM_FIELDS
from revbridge_sandboxes.salesforce.opportunities import FORECAST_API, STAGES
from revbridge_sandboxes.salesforce.schema import (
    CREATE_ONLY,
    RO,
    RO_CALC,
    ChildRelationship,
    Field,
    SObjectType,
    checkbox,
    money,
    picklist,
    reference,
    text,
    typed,
)


def _address(prefix: str) -> list[Field]:
    return [
        typed(f"{prefix}Street", "textarea", 255),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", 80),
        picklist(f"{prefix}StateCode", (), restricted=True),
        picklist(f"{prefix}CountryCode", (), restricted=True),
        typed(f"{prefix}Address", "address", **RO),
    ]


#: Sub-names of an address compound, as change events spell them (``BillingAddress.City``).
ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode")
STAGE_NAMES = tuple(STAGES)
FORECAST_CATEGORIES = tuple(FORECAST_API)


@dataclass(frozen=True)
class _Decl:
    name: str
    label: str
    prefix: str
    fields: list[Field]
    owned: bool = True
    currency: bool = True
    writable: bool = True
    custom: bool = False
    plural: str = ""


def _declarations() -> list[_Decl]:
    return [
        _Decl("User", "User", "005", _user_fields(), owned=False, currency=False, writable=False),
        _Decl("Account", "Account", "001", _account_fields()),
        _Decl("Contact", "Contact", "003", _contact_fields()),
        _Decl("Opportunity", "Opportunity", "006", _opportunity_fields(), plural="Opportunities"),
        _Decl("OpportunityLineItem", "Opportunity Product", "00k", _line_fields(), owned=False),
        _Decl("Product2", "Product", "01t", _product_fields(), owned=False),
        _Decl("Pricebook2", "Price Book", "01s", _pricebook_fields(), owned=False, currency=False),
        _Decl(
            "PricebookEntry",
            "Price Book Entry",
            "01u",
            _entry_fields(),
            owned=False,
            plural="Price Book Entries",
        ),
        _Decl("Contract", "Contract", "800", _contract_fields()),
        _Decl("Order", "Order", "801", _order_fields()),
        _Decl(
            "OpportunityStage",
            "Opportunity Stage",
            "01J",
            _stage_fields(),
            owned=False,
            currency=False,
            writable=False,
        ),
        _Decl(
            "Billing_Invoice__c",
            "Billing Invoice",
            "a0B",
            [text("Name", 80, required=True, label="Billing Invoice Name")],
            owned=False,
            custom=True,
            plural="Billing Invoices",
        ),
    ]


def _user_fields() -> list[Field]:
    return [
        text("Username", 80, **RO),
        text("FirstName", 40, **RO),
        text("LastName", 80, **RO),
        text("Name", 121, **RO),
        typed("Email", "email", 128, **RO),
        text("Alias", 8, **RO),
        checkbox("IsActive", True, **RO),
    ]


def _account_fields() -> list[Field]:
    return [
        text("Name", 255, required=True),
        text("AccountNumber", 40),
        picklist(
            "Type",
            (
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Channel Partner / Reseller",
                "Installation Partner",
                "Technology Partner",
                "Other",
            ),
        ),
        reference("ParentId", "Account", "Parent"),
        *_address("Billing"),
        *_address("Shipping"),
        typed("Phone", "phone", 40),
        typed("Fax", "phone", 40),
        typed("Website", "url", 255),
        picklist(
            "Industry",
            (
                "Agriculture",
                "Banking",
                "Communications",
                "Consulting",
                "Education",
                "Energy",
                "Finance",
                "Healthcare",
                "Manufacturing",
                "Media",
                "Retail",
                "Technology",
                "Other",
            ),
        ),
        money("AnnualRevenue"),
        typed("NumberOfEmployees", "int", precision=8),
        typed("Description", "textarea", 32000),
    ]


def _contact_fields() -> list[Field]:
    return [
        reference("AccountId", "Account", "Account"),
        text("LastName", 80, required=True),
        text("FirstName", 40),
        picklist("Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        text("Name", 121, **RO_CALC),
        *_address("Mailing"),
        typed("Phone", "phone", 40),
        typed("MobilePhone", "phone", 40),
        typed("Email", "email", 80),
        text("Title", 128),
        text("Department", 80),
        typed("Description", "textarea", 32000),
    ]


def _opportunity_fields() -> list[Field]:
    return [
        reference("AccountId", "Account", "Account"),
        text("Name", 120, required=True),
        typed("Description", "textarea", 32000),
        picklist("StageName", STAGE_NAMES, restricted=True, required=True),
        money("Amount"),
        typed("Probability", "percent", precision=3, scale=0),
        money("ExpectedRevenue", **RO_CALC),
        typed("CloseDate", "date", required=True),
        picklist(
            "Type",
            (
                "Existing Customer - Upgrade",
                "Existing Customer - Replacement",
                "Existing Customer - Downgrade",
                "New Customer",
            ),
        ),
        text("NextStep", 255),
        picklist(
            "LeadSource", ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
        ),
        checkbox("IsClosed", **RO),
        checkbox("IsWon", **RO),
        picklist(
            "ForecastCategory", ("Omitted", "Pipeline", "BestCase", "Forecast", "Closed"), **RO
        ),
        picklist("ForecastCategoryName", FORECAST_CATEGORIES, restricted=True),
        checkbox("HasOpportunityLineItem", **RO),
        reference("Pricebook2Id", "Pricebook2", "Pricebook2"),
        reference("ContractId", "Contract", "Contract"),
        typed("FiscalQuarter", "int", **RO_CALC),
        typed("FiscalYear", "int", **RO_CALC),
        text("Fiscal", 6, **RO_CALC),
    ]


def _line_fields() -> list[Field]:
    return [
        reference("OpportunityId", "Opportunity", "Opportunity", required=True, **CREATE_ONLY),
        typed("SortOrder", "int"),
        reference("PricebookEntryId", "PricebookEntry", "PricebookEntry", **CREATE_ONLY),
        reference("Product2Id", "Product2", "Product2", **CREATE_ONLY),
        text("ProductCode", 255, **RO),
        text("Name", 376, **RO),
        typed("Quantity", "double", precision=12, scale=2, required=True),
        money("TotalPrice"),
        money("UnitPrice"),
        money("ListPrice", **RO),
        money("Subtotal", **RO),
        typed("Discount", "percent", precision=5, scale=2),
        typed("ServiceDate", "date"),
        text("Description", 255),
    ]


def _product_fields() -> list[Field]:
    return [
        text("Name", 255, required=True),
        text("ProductCode", 255),
        typed("Description", "textarea", 4000),
        checkbox("IsActive"),
        picklist("Family", ("Software", "Hardware", "Services", "Support")),
        picklist("QuantityUnitOfMeasure", ("Each", "Hour", "Month", "Seat")),
        text("StockKeepingUnit", 180),
        typed("DisplayUrl", "url", 1000),
    ]


def _pricebook_fields() -> list[Field]:
    return [
        text("Name", 255, required=True),
        checkbox("IsActive"),
        checkbox("IsStandard", **RO),
        text("Description", 255),
    ]


def _entry_fields() -> list[Field]:
    return [
        text("Name", 255, **RO),
        reference("Pricebook2Id", "Pricebook2", "Pricebook2", required=True, **CREATE_ONLY),
        reference("Product2Id", "Product2", "Product2", required=True, **CREATE_ONLY),
        money("UnitPrice", required=True),
        checkbox("IsActive"),
        checkbox("UseStandardPrice"),
        text("ProductCode", 255, **RO),
    ]


def _contract_fields() -> list[Field]:
    return [
        reference("AccountId", "Account", "Account", required=True),
        reference("Pricebook2Id", "Pricebook2", "Pricebook2"),
        picklist("OwnerExpirationNotice", ("15", "30", "45", "60", "90", "120")),
        typed("StartDate", "date"),
        typed("EndDate", "date", **RO_CALC),
        typed("ContractTerm", "int", precision=4),
        picklist(
            "Status",
            ("Draft", "In Approval Process", "Activated"),
            restricted=True,
            default="Draft",
        ),
        picklist("StatusCode", ("Draft", "InApproval", "Activated"), **RO),
        text("ContractNumber", 30, **RO),
        typed("ActivatedDate", "datetime", **RO),
        typed("CustomerSignedDate", "date"),
        typed("CompanySignedDate", "date"),
        *_address("Billing"),
        typed("SpecialTerms", "textarea", 4000),
        typed("Description", "textarea", 32000),
    ]


def _order_fields() -> list[Field]:
    return [
        reference("AccountId", "Account", "Account", required=True),
        reference("ContractId", "Contract", "Contract"),
        reference("OpportunityId", "Opportunity", "Opportunity"),
        reference("Pricebook2Id", "Pricebook2", "Pricebook2"),
        text("Name", 80),
        text("PoNumber", 80),
        typed("EffectiveDate", "date", required=True),
        typed("EndDate", "date"),
        picklist("Status", ("Draft", "Activated"), restricted=True, required=True),
        picklist("StatusCode", ("Draft", "Activated"), **RO),
        text("OrderNumber", 30, **RO),
        money("TotalAmount", **RO_CALC),
        picklist("Type", ("New", "Renewal", "Upsell")),
        typed("ActivatedDate", "datetime", **RO),
        *_address("Billing"),
        *_address("Shipping"),
        typed("Description", "textarea", 32000),
    ]


def _stage_fields() -> list[Field]:
    return [
        text("ApiName", 255, **RO),
        text("MasterLabel", 255, **RO),
        checkbox("IsActive", True, **RO),
        typed("SortOrder", "int", **RO),
        checkbox("IsClosed", **RO),
        checkbox("IsWon", **RO),
        typed("DefaultProbability", "percent", precision=3, **RO),
        picklist(
            "ForecastCategory", ("Omitted", "Pipeline", "BestCase", "Forecast", "Closed"), **RO
        ),
        picklist("ForecastCategoryName", FORECAST_CATEGORIES, **RO),
        text("Description", 255, **RO),
    ]


_CHILDREN: dict[str, list[ChildRelationship]] = {
    "Account": [
        ChildRelationship("ChildAccounts", "Account", "ParentId"),
        ChildRelationship("Contacts", "Contact", "AccountId", cascade_delete=True),
        ChildRelationship("Opportunities", "Opportunity", "AccountId", cascade_delete=True),
        ChildRelationship("Contracts", "Contract", "AccountId"),
        ChildRelationship("Orders", "Order", "AccountId"),
    ],
    "Opportunity": [
        ChildRelationship(
            "OpportunityLineItems", "OpportunityLineItem", "OpportunityId", cascade_delete=True
        ),
        ChildRelationship("Orders", "Order", "OpportunityId"),
        ChildRelationship(
            "Billing_Invoices__r", "Billing_Invoice__c", "Opportunity__c", cascade_delete=True
        ),
    ],
    "Product2": [
        ChildRelationship("PricebookEntries", "PricebookEntry", "Product2Id", cascade_delete=True)
    ],
    "Pricebook2": [
        ChildRelationship("PricebookEntries", "PricebookEntry", "Pricebook2Id", cascade_delete=True)
    ],
    "Contract": [ChildRelationship("Orders", "Order", "ContractId")],
}


def _system_fields(decl: _Decl, currencies: Sequence[str]) -> tuple[list[Field], list[Field]]:
    head = [typed("Id", "id", 18, **RO), checkbox("IsDeleted", **RO)]
    tail: list[Field] = []
    if decl.owned:
        tail.append(reference("OwnerId", "User", "Owner"))
    if decl.currency:
        tail.append(
            picklist("CurrencyIsoCode", currencies, restricted=True, label="Currency ISO Code")
        )
    tail += [
        typed("CreatedDate", "datetime", **RO),
        reference("CreatedById", "User", "CreatedBy", **RO),
        typed("LastModifiedDate", "datetime", **RO),
        reference("LastModifiedById", "User", "LastModifiedBy", **RO),
        typed("SystemModstamp", "datetime", **RO),
    ]
    return head, tail


def build_types(
    currencies: Sequence[str], custom_fields: Mapping[str, Sequence[Field]] | None = None
) -> dict[str, SObjectType]:
    """Every object type of the org, with ``custom_fields`` added to the built-in ones."""
    types: dict[str, SObjectType] = {}
    for decl in _declarations():
        head, tail = _system_fields(decl, currencies)
        customs = [*CUSTOM_FIELDS.get(decl.name, []), *(custom_fields or {}).get(decl.name, [])]
        if not decl.writable:
            customs = [replace(f, createable=False, updateable=False) for f in customs]
        fields = {f.name: f for f in [*head, *decl.fields, *customs, *tail]}
        addresses = {
            name: {part: name.removesuffix("Address") + part for part in ADDRESS_PARTS}
            for name, f in fields.items()
            if f.type == "address"
        }
        types[decl.name] = SObjectType(
            decl.name,
            decl.label,
            decl.prefix,
            fields,
            custom=decl.custom,
            label_plural=decl.plural,
            createable=decl.writable,
            updateable=decl.writable,
            deletable=decl.writable,
            children={c.name: c for c in _CHILDREN.get(decl.name, [])},
            addresses=addresses,
        )
    return types
