"""The schema of the policy file (``revbridge.yaml``, ``version: 1``).

Every key of the file is a field below, spelled the same (snake_case); unknown keys are
errors. The models check the shape of each value. Checks that relate one part of the file
to another (a product's currencies against the legal entities, ownership against
``systems``, routing coverage) live in :mod:`revbridge.config.checks` and run in
:func:`revbridge.config.load.validate_file`; build a ``Policy`` through ``load_policy`` to
get both.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from revbridge.cases.model import Owner
from revbridge.config.codes import Amount, CountryCode, CurrencyCode, Jurisdiction
from revbridge.config.systems import (
    ROLES,
    Credential,
    Defaults,
    RateLimit,
    RetryPolicy,
    Role,
    Strict,
    System,
    SystemName,
)
from revbridge.errors import REFUSALS

__all__ = [
    "FAILURE_CLASSES",
    "OBJECTS",
    "PRODUCT",
    "Alert",
    "Billing",
    "Credential",
    "Defaults",
    "DomainOwnership",
    "EntitlementEndpoint",
    "Entitlements",
    "ErpDimensions",
    "Exceptions",
    "Fleet",
    "LegalEntity",
    "Owner",
    "Ownership",
    "Policy",
    "Product",
    "RateLimit",
    "RetryPolicy",
    "Role",
    "Routing",
    "RoutingRule",
    "Sla",
    "System",
]


_RULES = (
    "customer_hierarchy",
    "address",
    "legal_entity",
    "tax_nexus",
    "product_mapping",
    "contract_dates",
    "billing",
    "pricing",
)
FAILURE_CLASSES: tuple[str, ...] = (
    "validation",
    *(f"validation.{rule}" for rule in _RULES),
    "ownership",
    *(f"{role}{kind}" for role in ROLES for kind in ("", *(f".{k}" for k in REFUSALS))),
    "erp.rejected",
    "erp.acceptance_timeout",
    "billing.invoice_mismatch",
    "billing.deal_ended",
    "tax.mismatch",
    "payments.failed",
    "payments.currency",
    "auth",
    *(f"auth.{role}" for role in ROLES),
    "integration",
    "integration.unavailable",
    "integration.defect",
    "entitlements",
    "entitlements.rejected",
    "entitlements.unavailable",
)
"""Failure classes an exception case can carry; a family (``validation``) covers its members."""

OBJECTS: tuple[str, ...] = (
    "opportunity",
    "customer",
    "contract",
    "order",
    "order_line",
    "product",
    "subscription",
    "invoice",
    "payment",
    "legal_entity",
)
"""Canonical objects whose fields ``ownership.fields`` may name."""

_FIELD_PATH = re.compile(r"^([a-z_]+)\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def _pattern(kind: str, regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise PydanticCustomError(kind, "'{value}' is not " + what, {"value": value})
        return value

    return AfterValidator(check)


def _failure_class(value: str) -> str:
    if value not in FAILURE_CLASSES:
        raise PydanticCustomError(
            "failure_class",
            "unknown failure class '{value}'; known: {known}",
            {"value": value, "known": ", ".join(FAILURE_CLASSES)},
        )
    return value


def _field_path(value: str) -> str:
    match = _FIELD_PATH.match(value)
    if match is None or match.group(1) not in OBJECTS:
        raise PydanticCustomError(
            "field_path",
            "'{value}' is not a field path: write object.field, with object one of {objects}",
            {"value": value, "objects": ", ".join(OBJECTS)},
        )
    return value


EntityCode = Annotated[
    str, _pattern("entity_code", r"^[A-Z0-9][A-Z0-9_-]*$", "a legal entity code (ACME-US)")
]
Sku = Annotated[str, _pattern("sku", r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", "a SKU (SUB-PLATFORM)")]
Region = Annotated[str, _pattern("region", r"^[A-Z0-9]{1,3}$", "a subdivision code (NY)")]
OwnerName = Annotated[
    str, _pattern("owner_name", r"^[a-z][a-z0-9_-]*$", "a system name, a role or shared")
]
FailureClass = Annotated[str, AfterValidator(_failure_class)]
FieldPath = Annotated[str, AfterValidator(_field_path)]
NonEmpty = Annotated[str, Field(min_length=1)]


class ErpDimensions(Strict):
    """ERP segment defaults (NetSuite department, class, location) stamped on order lines."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    department: NonEmpty | None = None
    class_: NonEmpty | None = Field(None, alias="class")
    location: NonEmpty | None = None


class LegalEntity(Strict):
    """A company that contracts, invoices and books revenue."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    name: NonEmpty
    country: CountryCode
    functional_currency: CurrencyCode
    erp_subsidiary: NonEmpty
    tax_company_code: NonEmpty
    tax_nexus: list[Jurisdiction] = Field(default_factory=list)
    erp_dimensions: ErpDimensions = ErpDimensions()
    erp_system: SystemName | None = None
    tax_system: SystemName | None = None
    billing_system: SystemName | None = None


class RoutingRule(Strict):
    """Billing addresses in ``country`` (and ``regions``, if given) go to ``legal_entity``."""

    country: CountryCode
    regions: list[Region] = Field(default_factory=list)
    legal_entity: EntityCode


class Routing(Strict):
    """Ordered rules: the first rule matching the billing address wins, else ``default``."""

    rules: list[RoutingRule] = Field(min_length=1)
    default: EntityCode | None = None


class Billing(Strict):
    """How the billing system prices the product."""

    price_lookup_key: Annotated[str, Field(min_length=1, max_length=200)]
    prices: dict[CurrencyCode, Amount] = Field(min_length=1)
    interval: Literal["month", "year"] | None = None
    usage_type: Literal["licensed", "metered"] = "licensed"
    unit: NonEmpty | None = None


class Product(Strict):
    """A sellable item and its identity in the ERP, the billing system and the tax engine."""

    name: NonEmpty
    kind: Literal["subscription", "service", "usage"]
    erp_item: NonEmpty
    billing: Billing
    tax_code: NonEmpty
    revenue_treatment: Literal["ratable", "point_in_time", "as_invoiced"]
    erp_dimensions: ErpDimensions = ErpDimensions()


def _percent(value: Decimal) -> Decimal:
    if value > 100:
        raise PydanticCustomError("percent", "a percentage is at most 100")
    return value


Percent = Annotated[Amount, AfterValidator(_percent)]


class Pricing(Strict):
    """How far an order's prices may stray from the product map before it is a
    ``validation.pricing`` finding (a 422 on the orders API, a case from the CRM)."""

    #: A line may be priced this much above or below the map without being a discount
    #: (rounding in the CRM, a price book a cent off), in percent of the map's price.
    tolerance_percent: Percent = Decimal(0)
    #: The largest discount booked without a case: a line's own discount, or a unit price
    #: below the map's, in percent of the line at the map's price.
    max_discount_percent: Percent = Decimal(0)
    #: Lines at zero (a free item) are booked only when allowed.
    allow_zero_lines: bool = False
    #: Lines below zero (a credit or a discount line) are booked only when allowed.
    allow_credit_lines: bool = False


#: The owner of ``usage`` that is no system of the policy: the sold product itself (the
#: application that meters its customers' usage and reports it on ``POST /v1/usage``).
PRODUCT = "product"


class DomainOwnership(Strict):
    """System of record per business domain: a system name, a role, or ``shared``; the
    ``usage`` domain may also be ``product`` (:data:`PRODUCT`)."""

    pipeline: OwnerName = "crm"
    account_engagement: OwnerName = "crm"
    commercial_intent: OwnerName = "crm"
    posting: OwnerName = "erp"
    invoicing: OwnerName = "erp"
    receivables: OwnerName = "erp"
    tax_treatment: OwnerName = "erp"
    legal_entity: OwnerName = "erp"
    catalog: OwnerName = "shared"
    pricing: OwnerName = "shared"
    contract_metadata: OwnerName = "shared"
    customer_hierarchy: OwnerName = "shared"
    #: Metered usage (``POST /v1/usage``): who may report it.
    usage: OwnerName = PRODUCT


class Ownership(Strict):
    """Who may write what: by domain, refined by field."""

    domains: DomainOwnership = DomainOwnership()
    fields: dict[FieldPath, OwnerName] = Field(default_factory=dict)


class Exceptions(Strict):
    """Who handles an exception case, by failure class."""

    default: Owner = Owner.INTEGRATION_SUPPORT
    owners: dict[FailureClass, Owner] = Field(default_factory=dict)
    guidance: dict[Owner, NonEmpty] = Field(default_factory=dict)

    def owner_for(self, failure_class: str) -> Owner:
        """The owner of ``failure_class``: exact entry, then its family, then ``default``."""
        name = failure_class
        while name:
            if name in self.owners:
                return self.owners[name]
            name = name.rpartition(".")[0]
        return self.default


def _default_case_age() -> dict[Owner, int]:
    return {Owner.SALES_OPS: 86400, Owner.FINANCE_OPS: 14400, Owner.INTEGRATION_SUPPORT: 3600}


class Sla(Strict):
    """Business targets, in seconds; breaches are measured and alerted on."""

    quote_to_order_p95_s: int = Field(300, gt=0)
    order_to_invoice_p95_s: int = Field(86400, gt=0)
    #: Invoice posted → paid in full (30 days: net-30 terms met).
    invoice_to_cash_p95_s: int = Field(2_592_000, gt=0)
    sync_lag_max_s: int = Field(900, gt=0)
    case_age_max_s: dict[Owner, Annotated[int, Field(gt=0)]] = Field(
        default_factory=_default_case_age
    )
    erp_acceptance_timeout_s: int = Field(120, gt=0)


class Fleet(Strict):
    """How workers share the work: a worker silent for ``worker_timeout_s`` is gone and a
    survivor recovers its unfinished deals."""

    heartbeat_s: float = Field(5.0, gt=0)
    worker_timeout_s: int = Field(30, gt=0)
    #: Hold each system's rate_limit across all workers through the database (default:
    #: on with PostgreSQL, where many workers share it; off with SQLite, one worker).
    shared_budgets: bool | None = None

    @model_validator(mode="after")
    def _beats_within_timeout(self) -> Fleet:
        if self.heartbeat_s * 2 > self.worker_timeout_s:
            raise PydanticCustomError(
                "fleet_heartbeat",
                "heartbeat_s must be at most half of worker_timeout_s, or a live worker "
                "could be taken for gone",
            )
        return self


class Alert(Strict):
    """A webhook called when a business metric crosses ``threshold``."""

    name: Annotated[str, _pattern("alert_name", r"^[a-z0-9][a-z0-9_-]*$", "an alert name")]
    condition: Literal[
        "exception_age_s",
        "open_exceptions",
        "sync_lag_s",
        "order_to_invoice_p95_s",
    ]
    threshold: float = Field(ge=0)
    owner: Owner | None = None
    webhook: Credential


#: Hosts an entitlement endpoint may be called on over plain HTTP (the machine itself).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _endpoint_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("endpoint_url", "url must be an https:// URL with a host")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise PydanticCustomError(
            "endpoint_url_https",
            "url must use https:// (plain http:// only for localhost or 127.0.0.1): the "
            "activation names the customer and what they bought",
        )
    return value


class EntitlementEndpoint(Strict):
    """A provisioning system told, signed as Standard Webhooks, when a deal's billing is live."""

    name: Annotated[str, _pattern("endpoint_name", r"^[a-z0-9][a-z0-9_-]*$", "an endpoint name")]
    url: Annotated[str, AfterValidator(_endpoint_url)]
    #: The signing secret, ``whsec_<base64>`` as Standard Webhooks writes it.
    secret: Credential
    timeout_s: float = Field(10.0, gt=0)


class Entitlements(Strict):
    """When revbridge tells provisioning systems that a deal's billing is live, and whom."""

    #: ``first_invoice_paid``: the deal's first invoice is paid; ``subscription_active``:
    #: the deal is activated (its order accepted, billing started).
    trigger: Literal["first_invoice_paid", "subscription_active"] = "first_invoice_paid"
    endpoints: list[EntitlementEndpoint] = Field(default_factory=list)


class Policy(Strict):
    """The whole policy file."""

    version: Literal[1]
    company: NonEmpty | None = None
    markets: list[Jurisdiction] = Field(default_factory=list)
    defaults: Defaults = Defaults()
    systems: dict[SystemName, System] = Field(min_length=1)
    ownership: Ownership = Ownership()
    legal_entities: dict[EntityCode, LegalEntity] = Field(min_length=1)
    routing: Routing
    products: dict[Sku, Product] = Field(default_factory=dict)
    pricing: Pricing = Pricing()
    exceptions: Exceptions = Exceptions()
    sla: Sla = Sla()
    alerts: list[Alert] = Field(default_factory=list)
    fleet: Fleet = Fleet()
    entitlements: Entitlements | None = None

    def systems_with_role(self, role: Role) -> list[str]:
        """Names of the systems playing ``role``, in file order."""
        return [name for name, system in self.systems.items() if system.role == role]

    def route(self, country: str, region: str | None = None) -> str | None:
        """The legal entity for a billing address, or None when nothing routes it."""
        for rule in self.routing.rules:
            if rule.country == country and (not rule.regions or region in rule.regions):
                return rule.legal_entity
        return self.routing.default

    def field_owner(self, field: str) -> str | None:
        """Owner of a canonical field as written (system, role, ``revbridge`` or ``shared``).

        None when ``ownership.fields`` does not name the field: its domain's owner applies.
        """
        return self.ownership.fields.get(field)

    def timeout_for(self, system: str) -> float:
        """Call timeout in seconds for ``system``."""
        own = self.systems[system].timeout_s
        return self.defaults.timeout_s if own is None else own

    def retry_for(self, system: str) -> RetryPolicy:
        """``defaults.retry`` overlaid with the fields ``system`` sets itself."""
        own = self.systems[system].retry
        if own is None:
            return self.defaults.retry
        merged = self.defaults.retry.model_dump() | own.model_dump(include=own.model_fields_set)
        return RetryPolicy.model_validate(merged)

    def rate_limit_for(self, system: str) -> RateLimit:
        """``defaults.rate_limit`` overlaid with the fields ``system`` sets itself."""
        own = self.systems[system].rate_limit
        if own is None:
            return self.defaults.rate_limit
        merged = self.defaults.rate_limit.model_dump() | own.model_dump(
            include=own.model_fields_set
        )
        return RateLimit.model_validate(merged)
