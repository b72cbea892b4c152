"""Parties: customers (with their hierarchy, addresses and tax standing) and our legal entities.

Countries are ISO 3166-1 alpha-2 codes (``GB``, not ``UK``); tax jurisdictions are a country
code optionally followed by an ISO 3166-2 subdivision (``US-NY``, ``CA-QC``, ``DE``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, model_validator

from revbridge.canonical.ids import CanonicalId, ExternalRef, ExternalRefs, find_ref
from revbridge.canonical.model import CanonicalModel, Name
from revbridge.canonical.money import Currency

__all__ = [
    "ISO_3166_ALPHA2",
    "Address",
    "CountryCode",
    "Customer",
    "Jurisdiction",
    "LegalEntity",
    "LegalEntityCode",
    "PaymentTerms",
    "TaxExemption",
]

_ALPHA2_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_ALPHA2: frozenset[str] = frozenset(_ALPHA2_CODES.split())
"""The 249 officially assigned ISO 3166-1 alpha-2 country codes."""

_COMMON_MISTAKES = {"UK": "GB", "EL": "GR"}


def _check_country(code: str) -> str:
    if code not in ISO_3166_ALPHA2:
        hint = f"; did you mean {_COMMON_MISTAKES[code]!r}?" if code in _COMMON_MISTAKES else ""
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code{hint}")
    return code


def _check_jurisdiction(code: str) -> str:
    _check_country(code.partition("-")[0])
    return code


CountryCode = Annotated[
    str,
    AfterValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 3166-1 alpha-2 country code",
            "enum": sorted(ISO_3166_ALPHA2),
        }
    ),
]

Jurisdiction = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"),
    AfterValidator(_check_jurisdiction),
]
"""A tax jurisdiction: ``GB``, ``DE``, or country-subdivision such as ``US-NY``."""

LegalEntityCode = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
]
"""Our short code for one of our legal entities, e.g. ``UK01``."""


class Address(CanonicalModel):
    """A postal address; ``region`` is the state, province or county where one applies."""

    line1: Name
    line2: Name | None = None
    city: Name
    region: Name | None = None
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    country: CountryCode


class TaxExemption(CanonicalModel):
    """Why a customer is exempt from tax, where, and the certificate that proves it."""

    reason: Name
    certificate_id: Name | None = None
    jurisdictions: tuple[Jurisdiction, ...] = ()
    expires_on: date | None = None


class PaymentTerms(CanonicalModel):
    """When an invoice falls due: ``net_days`` after its issue date (0: due on receipt)."""

    net_days: Annotated[int, Field(ge=0, le=366)]

    def __str__(self) -> str:
        return "Due on receipt" if self.net_days == 0 else f"Net {self.net_days}"


class Customer(CanonicalModel):
    """The party we sell to, as every system should know it."""

    customer_id: CanonicalId
    name: Name
    parent_id: CanonicalId | None = None
    legal_entity: LegalEntityCode | None = None
    """Decided by the policy's routing rules; None until the deal was routed."""
    billing_address: Address | None = None
    """None when the source system has no usable billing address (a defect rules report)."""
    shipping_address: Address | None = None
    tax_id: Name | None = None
    tax_exemption: TaxExemption | None = None
    currency: Currency
    payment_terms: PaymentTerms | None = None
    external_refs: ExternalRefs = ()

    @model_validator(mode="after")
    def _not_its_own_parent(self) -> Customer:
        if self.parent_id == self.customer_id:
            raise ValueError(f"customer {self.customer_id} cannot be its own parent")
        return self

    def ref_for(self, system: str) -> ExternalRef | None:
        """This customer's id in ``system``, or None when it has none there yet."""
        return find_ref(self.external_refs, system)


class LegalEntity(CanonicalModel):
    """One of our own companies: it books revenue, issues invoices and owes tax somewhere."""

    code: LegalEntityCode
    name: Name
    country: CountryCode
    functional_currency: Currency
    erp_subsidiary: ExternalRef | None = None
    tax_nexus: tuple[Jurisdiction, ...] = ()
