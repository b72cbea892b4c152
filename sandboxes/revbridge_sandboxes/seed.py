"""A realistic book of business across the sandboxes, through their public APIs.

``seed_estate`` creates, with a seeded RNG: the price book (Product2 and PricebookEntry
per currency in Salesforce; products and prices with lookup keys in Stripe), account
hierarchies in the US, the UK and Germany, and open opportunities with line items. A
chosen fraction of deals carries one of the defects real estates have; the manifest
says which. ``close_deals`` then moves opportunities to "Closed Won".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

DEFECTS = (
    "unmapped_product",
    "no_tax_nexus",
    "invalid_address",
    "end_before_start",
    "missing_billing_country",
    "duplicate_account_name",
)
FAMILY = {"subscription": "Subscription", "service": "Services", "usage": "Usage"}
Place = tuple[str | None, str, str, str]
MARKETS: dict[str, tuple[str, list[Place]]] = {
    "US": (
        "USD",
        [
            ("NY", "New York", "10001", "350 5th Ave"),
            ("WA", "Seattle", "98101", "400 Pine St"),
            ("TX", "Austin", "78701", "500 Congress Ave"),
            ("PA", "Philadelphia", "19103", "1500 Market St"),
            ("CA", "San Francisco", "94105", "101 Mission St"),
        ],
    ),
    "GB": (
        "GBP",
        [
            (None, "London", "EC2A 4NE", "1 Finsbury Ave"),
            (None, "Manchester", "M1 1AE", "2 Piccadilly Pl"),
        ],
    ),
    "DE": (
        "EUR",
        [
            (None, "Berlin", "10117", "Friedrichstrasse 50"),
            (None, "München", "80331", "Marienplatz 8"),
        ],
    ),
}
NAMES = (
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Acme Widgets",
    "Vandelay",
    "Pied Piper",
    "Aperture",
    "Massive Dynamic",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Duff",
)


@dataclass(frozen=True)
class CatalogItem:
    """One product of the price book: what the CRM sells and billing charges."""

    sku: str
    name: str
    kind: str
    prices: dict[str, Decimal]
    lookup_key: str
    interval: str | None = None
    usage_type: str = "licensed"


@dataclass
class Endpoints:
    salesforce: str
    stripe: str
    salesforce_auth: dict[str, str]
    stripe_key: str
    api_version: str = "v59.0"
    netsuite: str | None = None
    netsuite_token: str | None = None


@dataclass
class Manifest:
    """What was created: every opportunity id with the defect it carries (or None)."""

    deals: dict[str, str | None] = field(default_factory=dict)
    accounts: int = 0

    def defective(self) -> dict[str, str]:
        return {k: v for k, v in self.deals.items() if v is not None}


class SalesforceSeeder:
    def __init__(self, endpoints: Endpoints) -> None:
        self.http = httpx.Client(base_url=endpoints.salesforce, timeout=30)
        token = self.http.post("/services/oauth2/token", data=endpoints.salesforce_auth)
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.base = f"/services/data/{endpoints.api_version}"

    def create(self, sobject: str, record: dict[str, Any]) -> str:
        response = self.http.post(f"{self.base}/sobjects/{sobject}/", json=record)
        if response.status_code != 201:
            raise RuntimeError(f"Salesforce {sobject} create: {response.text[:300]}")
        return str(response.json()["id"])

    def update(self, sobject: str, record_id: str, record: dict[str, Any]) -> None:
        response = self.http.patch(f"{self.base}/sobjects/{sobject}/{record_id}", json=record)
        if response.status_code != 204:
            raise RuntimeError(f"Salesforce {sobject} update: {response.text[:300]}")

    def query(self, soql: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.base}/query", params={"q": soql})
        response.raise_for_status()
        return list(response.json()["records"])


def seed_estate(
    endpoints: Endpoints,
    catalog: list[CatalogItem],
    deals: int,
    seed: int = 7,
    defect_rate: float = 0.1,
) -> Manifest:
    """Create the estate; every ``1/defect_rate``-th deal (spread by the RNG) is defective."""
    rng = random.Random(seed)
    book = prepare_catalog(endpoints, catalog)
    sf, entries = book.seeder, book.entries
    manifest = Manifest()
    defects = _assign_defects(rng, deals, defect_rate)
    for index in range(deals):
        defect = defects.get(index)
        opportunity = _deal(sf, endpoints, rng, index, catalog, entries, defect, manifest)
        manifest.deals[opportunity] = defect
    return manifest


@dataclass
class PriceBook:
    """What ``prepare_catalog`` created: PricebookEntry ids by (sku, currency)."""

    seeder: SalesforceSeeder
    entries: dict[tuple[str, str], tuple[str, Decimal]]  # PricebookEntry id and unit price


def prepare_catalog(endpoints: Endpoints, catalog: list[CatalogItem]) -> PriceBook:
    """The price book in Salesforce and the prices in Stripe, ready to sell from."""
    seeder = SalesforceSeeder(endpoints)
    entries = _price_book(seeder, catalog)
    _stripe_catalog(endpoints, catalog)
    return PriceBook(seeder, entries)


def create_deal(
    book: PriceBook,
    *,
    account: dict[str, Any],
    lines: list[tuple[str, int]],
    currency: str,
    start: date,
    end: date,
    parent: dict[str, Any] | None = None,
    account_id: str | None = None,
) -> str:
    """One open opportunity (with its account, and parent account if given); its id. With
    ``account_id`` the opportunity is another deal of that existing account (``account``
    then only names it)."""
    sf = book.seeder
    if account_id is None:
        parent_id = sf.create("Account", parent) if parent else None
        extra = {"ParentId": parent_id} if parent_id else {}
        account_id = sf.create("Account", {**account, **extra})
    opportunity = sf.create(
        "Opportunity",
        {
            "Name": f"{account['Name']} — platform",
            "AccountId": account_id,
            "StageName": "Negotiation/Review",
            "CloseDate": start.isoformat(),
            "CurrencyIsoCode": currency,
            "Contract_Start_Date__c": start.isoformat(),
            "Contract_End_Date__c": end.isoformat(),
            "Billing_Frequency__c": "Annual",
        },
    )
    for sku, quantity in lines:
        _add_line(sf, opportunity, book.entries, sku, currency, quantity)
    return opportunity


def close_deals(endpoints: Endpoints, opportunity_ids: list[str]) -> None:
    """Move opportunities to Closed Won, one update each (as sales reps do)."""
    sf = SalesforceSeeder(endpoints)
    for opportunity in opportunity_ids:
        sf.update("Opportunity", opportunity, {"StageName": "Closed Won"})


def _assign_defects(rng: random.Random, deals: int, rate: float) -> dict[int, str]:
    count = round(deals * rate)
    chosen = rng.sample(range(deals), count) if count else []
    return {index: DEFECTS[n % len(DEFECTS)] for n, index in enumerate(sorted(chosen))}


Entries = dict[tuple[str, str], tuple[str, Decimal]]


def _price_book(sf: SalesforceSeeder, catalog: list[CatalogItem]) -> Entries:
    """Product2 and one PricebookEntry per product and currency; plus one unmapped product."""
    standard = sf.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true")[0]["Id"]
    entries: Entries = {}
    legacy = CatalogItem(
        "SUB-LEGACY-2019",
        "Legacy plan (retired)",
        "subscription",
        {"USD": Decimal("5000.00"), "GBP": Decimal("4000.00"), "EUR": Decimal("4600.00")},
        "legacy",
    )
    for item in [*catalog, legacy]:
        product = sf.create(
            "Product2",
            {
                "Name": item.name,
                "ProductCode": item.sku,
                "Family": FAMILY[item.kind],
                "IsActive": True,
            },
        )
        for currency, price in item.prices.items():
            entry = sf.create(
                "PricebookEntry",
                {
                    "Pricebook2Id": standard,
                    "Product2Id": product,
                    "UnitPrice": float(price),
                    "IsActive": True,
                    "CurrencyIsoCode": currency,
                },
            )
            entries[(item.sku, currency)] = (entry, price)
    return entries


def _add_line(
    sf: SalesforceSeeder, opportunity: str, entries: Entries, sku: str, currency: str, qty: int
) -> None:
    entry, price = entries[(sku, currency)]
    sf.create(
        "OpportunityLineItem",
        {
            "OpportunityId": opportunity,
            "PricebookEntryId": entry,
            "Quantity": qty,
            "UnitPrice": float(price),
        },
    )


def _stripe_catalog(endpoints: Endpoints, catalog: list[CatalogItem]) -> None:
    """Stripe products and prices; lookup key ``<price_lookup_key>_<currency>``."""
    with httpx.Client(
        base_url=endpoints.stripe,
        timeout=30,
        headers={"Authorization": f"Bearer {endpoints.stripe_key}"},
    ) as http:
        for item in catalog:
            product = http.post("/v1/products", data={"name": item.name, "metadata[sku]": item.sku})
            product.raise_for_status()
            meter = _meter(http, item) if item.usage_type == "metered" else None
            for currency, price in item.prices.items():
                form = {
                    "product": product.json()["id"],
                    "currency": currency.lower(),
                    "unit_amount_decimal": str(price * 100),
                    "lookup_key": f"{item.lookup_key}_{currency.lower()}",
                }
                if item.interval:
                    form["recurring[interval]"] = item.interval
                    form["recurring[usage_type]"] = item.usage_type
                if meter is not None:
                    form["recurring[meter]"] = meter
                response = http.post("/v1/prices", data=form)
                if response.status_code >= 300:
                    raise RuntimeError(f"Stripe price {item.sku}: {response.text[:300]}")


#: The NetSuite sandbox's operating subsidiary per country (its default reference data).
SUBSIDIARY = {"US": "2", "GB": "3", "DE": "4"}


def _legacy_erp_customer(endpoints: Endpoints, name: str, country: str, index: int) -> None:
    """A customer already in the ERP under the same name (e.g. from a legacy import)."""
    response = httpx.post(
        f"{endpoints.netsuite}/services/rest/record/v1/customer",
        headers={"Authorization": f"Bearer {endpoints.netsuite_token}"},
        json={
            "companyName": name,
            "subsidiary": {"id": SUBSIDIARY[country]},
            "externalId": f"legacy-{index:05d}",
        },
        timeout=30,
    )
    if response.status_code != 204:
        raise RuntimeError(f"NetSuite legacy customer: {response.text[:300]}")


def _meter(http: httpx.Client, item: CatalogItem) -> str:
    """The billing meter usage of a metered product is reported to (summed per period)."""
    response = http.post(
        "/v1/billing/meters",
        data={
            "display_name": item.name,
            "event_name": item.lookup_key.replace("-", "_"),
            "default_aggregation[formula]": "sum",
        },
    )
    if response.status_code >= 300:
        raise RuntimeError(f"Stripe meter {item.sku}: {response.text[:300]}")
    return str(response.json()["id"])


def _deal(
    sf: SalesforceSeeder,
    endpoints: Endpoints,
    rng: random.Random,
    index: int,
    catalog: list[CatalogItem],
    entries: Entries,
    defect: str | None,
    manifest: Manifest,
) -> str:
    country = rng.choice(("US", "US", "GB", "DE"))
    currency, places = MARKETS[country]
    region, city, postal, street = rng.choice(places)
    name = f"{rng.choice(NAMES)} {country} {index:04d}"
    parent = _account(sf, f"{name} Holdings", country, region, city, postal, street, None)
    billing: dict[str, Any] = {
        "country": country,
        "region": region,
        "city": city,
        "postal": postal,
        "street": street,
    }
    if defect == "no_tax_nexus":
        billing.update(
            country="US", region="FL", city="Miami", postal="33101", street="200 Biscayne Blvd"
        )
        currency = "USD"
    elif defect == "invalid_address":
        _, us_city, _, us_street = rng.choice(MARKETS["US"][1])
        billing.update(country="US", region=None, postal=None, city=us_city, street=us_street)
        currency = "USD"
    elif defect == "missing_billing_country":
        billing.update(country=None, region=None)
    child_name = name
    if defect == "duplicate_account_name":
        _account(sf, name, country, region, city, postal, street, None)
        if endpoints.netsuite:
            _legacy_erp_customer(endpoints, name, country, index)
    child = _account(
        sf,
        child_name,
        billing["country"],
        billing["region"],
        billing["city"],
        billing["postal"],
        billing["street"],
        parent,
    )
    manifest.accounts += 2 + (defect == "duplicate_account_name")
    start = date(2026, 12, 1) + timedelta(days=rng.randrange(0, 60))
    end = start + timedelta(days=364)
    if defect == "end_before_start":
        end = start - timedelta(days=30)
    opportunity = sf.create(
        "Opportunity",
        {
            "Name": f"{name} — platform",
            "AccountId": child,
            "StageName": "Negotiation/Review",
            "CloseDate": start.isoformat(),
            "CurrencyIsoCode": currency,
            "Revbridge_Id__c": f"deal-{index:05d}",
            "Contract_Start_Date__c": start.isoformat(),
            "Contract_End_Date__c": end.isoformat(),
            "Billing_Frequency__c": "Annual",
            "Auto_Renew__c": True,
        },
    )
    for sku, quantity in _lines(rng, catalog, defect):
        _add_line(sf, opportunity, entries, sku, currency, quantity)
    return opportunity


def _lines(
    rng: random.Random, catalog: list[CatalogItem], defect: str | None
) -> list[tuple[str, int]]:
    by_kind: dict[str, list[CatalogItem]] = {}
    for item in catalog:
        by_kind.setdefault(item.kind, []).append(item)
    lines = [(rng.choice(by_kind["subscription"]).sku, 1)]
    if "service" in by_kind and rng.random() < 0.6:
        lines.append((rng.choice(by_kind["service"]).sku, 1))
    if "usage" in by_kind and rng.random() < 0.5:
        lines.append((rng.choice(by_kind["usage"]).sku, rng.choice((1000, 5000, 20000))))
    if defect == "unmapped_product":
        lines.append(("SUB-LEGACY-2019", 1))
    return lines


def _account(
    sf: SalesforceSeeder,
    name: str,
    country: str | None,
    region: str | None,
    city: str | None,
    postal: str | None,
    street: str | None,
    parent: str | None,
) -> str:
    record: dict[str, Any] = {
        "Name": name,
        "BillingStreet": street,
        "BillingCity": city,
        "BillingPostalCode": postal,
        "Payment_Terms__c": "Net 30",
    }
    if country:
        record["BillingCountryCode"] = country
    if region:
        record["BillingStateCode"] = region
    if parent:
        record["ParentId"] = parent
    return sf.create("Account", {k: v for k, v in record.items() if v is not None})
