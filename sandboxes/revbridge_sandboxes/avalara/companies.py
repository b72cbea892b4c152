"""Companies of the emulated AvaTax account, their nexus, and how AvaTax lists them.

A company is configured, not created through the API: ``create_app(companies=[...])``.
Nexus entries are ``"US-NY"`` for a US state and ``"GB"`` for a country. A destination
without nexus is taxed at zero with ``nonTaxableType: "NexusRule"``, as AvaTax does.
``exempt_customers`` stands for exemption certificates on file: those customer codes are
exempt in every jurisdiction of that company.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from revbridge_sandboxes.avalara.rates import REGIONS, Region

CREATED = "2024-01-01T00:00:00"


@dataclass(frozen=True)
class Company:
    """One AvaTax company: code, numeric id, home country, currency and nexus."""

    code: str
    id: int
    name: str
    country: str = "US"
    currency: str = "USD"
    nexus: tuple[str, ...] = ()
    is_default: bool = False
    exempt_customers: frozenset[str] = frozenset()

    def has_nexus(self, country: str, region: str) -> bool:
        if country == "US":
            return f"US-{region}" in self.nexus
        return country in self.nexus

    def customer_is_exempt(self, customer_code: str) -> bool:
        return customer_code.casefold() in {c.casefold() for c in self.exempt_customers}


def default_companies() -> tuple[Company, ...]:
    """``ACME-US`` (default; NY, WA, TX, PA, CA), ``ACME-UK`` (GB) and ``ACME-DE`` (DE)."""
    return (
        Company(
            "ACME-US",
            7100001,
            "Acme Software Inc.",
            "US",
            "USD",
            ("US-NY", "US-WA", "US-TX", "US-PA", "US-CA"),
            is_default=True,
        ),
        Company("ACME-UK", 7100002, "Acme Software Ltd.", "GB", "GBP", ("GB",)),
        Company("ACME-DE", 7100003, "Acme Software GmbH", "DE", "EUR", ("DE",)),
    )


def check_companies(companies: Iterable[Company]) -> tuple[Company, ...]:
    """Validate a company list: unique codes and ids, known nexus, one default at most."""
    result = tuple(companies)
    if not result:
        raise ValueError("at least one company is required")
    codes = [c.code.casefold() for c in result]
    if len(set(codes)) != len(codes) or len({c.id for c in result}) != len(result):
        raise ValueError("company codes and ids must be unique")
    if sum(c.is_default for c in result) > 1:
        raise ValueError("at most one company may be the default")
    for company in result:
        for entry in company.nexus:
            if _nexus_region(entry) is None:
                raise ValueError(f"{company.code}: nexus {entry!r} is not in the rate table")
    return result


def _nexus_region(entry: str) -> Region | None:
    country, _, region = entry.partition("-")
    return REGIONS.get((country, region or country))


def company_model(company: Company, account_id: int) -> dict[str, Any]:
    """The ``CompanyModel`` returned by ``GET /api/v2/companies``."""
    return {
        "id": company.id,
        "accountId": account_id,
        "companyCode": company.code,
        "name": company.name,
        "isDefault": company.is_default,
        "defaultLocationId": 0,
        "isActive": True,
        "taxpayerIdNumber": "",
        "isFein": False,
        "hasProfile": True,
        "isReportingEntity": True,
        "defaultCountry": company.country,
        "baseCurrencyCode": company.currency,
        "roundingLevelId": "Line",
        "warningsEnabled": False,
        "isTest": True,
        "taxDependencyLevelId": "Document",
        "inProgress": False,
        "businessIdentificationNo": "",
        "createdDate": CREATED,
        "createdUserId": 1,
        "modifiedDate": CREATED,
        "modifiedUserId": 1,
    }


def nexus_models(company: Company) -> list[dict[str, Any]]:
    """The ``NexusModel`` list returned by ``GET /api/v2/companies/{id}/nexus``."""
    models = []
    for index, entry in enumerate(company.nexus, start=1):
        region = _nexus_region(entry)
        if region is None:
            continue
        top = region.top
        models.append(
            {
                "id": company.id * 100 + index,
                "companyId": company.id,
                "country": region.country,
                "region": region.region,
                "jurisTypeId": top.juris_type,
                "jurisdictionTypeId": top.jurisdiction_type,
                "jurisCode": top.code,
                "jurisName": top.name,
                "effectiveDate": "2020-01-01",
                "endDate": "9999-12-31",
                "shortName": top.name,
                "signatureCode": top.signature_code,
                "stateAssignedNo": "",
                "nexusTypeId": "SalesOrSellersUseTax" if region.country == "US" else "SalesTax",
                "sourcing": "Destination",
                "hasLocalNexus": True,
                "localNexusTypeId": "All",
                "hasPermanentEstablishment": True,
                "streamlinedSalesTax": False,
                "isSSTActive": False,
                "createdDate": CREATED,
                "createdUserId": 1,
                "modifiedDate": CREATED,
                "modifiedUserId": 1,
                "taxTypeGroup": region.tax_type_group,
                "nexusTaxTypeGroup": region.tax_type_group,
                "taxName": top.tax_name,
            }
        )
    return models
