"""Addresses: completeness, where they are in the rate table, and ``addresses/resolve``.

AvaTax needs, for a US or Canadian address, a postal code, or line1 + city + region, or
a latitude/longitude pair; elsewhere the country alone is enough. The country defaults
to ``US``; a US region missing from the address is taken from the ZIP code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from revbridge_sandboxes.avalara import errors
from revbridge_sandboxes.avalara.payloads import AddressInput
from revbridge_sandboxes.avalara.rates import (
    COUNTRY_ALIASES,
    REGIONS,
    US_REGION_BY_ZIP,
    Jurisdiction,
    Locality,
    Region,
)

_STREET_WORDS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "ROAD": "RD",
    "LANE": "LN",
    "DRIVE": "DR",
    "BOULEVARD": "BLVD",
    "COURT": "CT",
    "PLACE": "PL",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "SUITE": "STE",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
_PUNCTUATION = re.compile(r"[.,]")


@dataclass(frozen=True)
class Place:
    """Where a destination falls in the rate table."""

    country: str
    region: str
    city: str
    postal_code: str
    area: Region
    locality: Locality | None

    @property
    def jurisdictions(self) -> tuple[Jurisdiction, ...]:
        local = self.locality.jurisdictions if self.locality is not None else ()
        return (self.area.top, *local)


def country_of(address: AddressInput) -> str:
    raw = address.country.strip().upper()
    return COUNTRY_ALIASES.get(raw, raw) or "US"


def _zip5(address: AddressInput) -> str:
    return address.postal_code.strip()[:5]


def is_complete(address: AddressInput) -> bool:
    """Postal code, line1 + city + region, or coordinates; outside US/CA the country."""
    if address.postal_code or (address.line1 and address.city and address.region):
        return True
    if address.latitude is not None and address.longitude is not None:
        return True
    return country_of(address) not in ("US", "CA") and bool(address.country)


def shown(address: AddressInput) -> str:
    """The address as AvaTax echoes it in ``InvalidAddress`` (``NULL`` when empty)."""
    parts = [address.line1, address.city, address.region, address.postal_code, address.country]
    text = ", ".join(p for p in parts if p)
    return f"'{text}'" if text else "NULL"


def locate(address: AddressInput) -> Place | None:
    """The region (and US locality) of ``address``, or None if the table does not know it."""
    country = country_of(address)
    if country == "US":
        region = address.region.strip().upper() or US_REGION_BY_ZIP.get(_zip5(address)[:3], "")
    else:
        region = country
    area = REGIONS.get((country, region))
    if area is None:
        return None
    city = address.city.strip().upper()
    locality = area.locality(city, _zip5(address)) if country == "US" else None
    return Place(country, region, city, address.postal_code, area, locality)


def region_of(address: AddressInput) -> tuple[str, str]:
    """Country and region as reported on a transaction, even outside the rate table."""
    place = locate(address)
    if place is not None:
        return place.country, place.region
    return country_of(address), address.region.strip().upper()


def normalise_street(line: str) -> str:
    words = _PUNCTUATION.sub(" ", line.upper()).split()
    return " ".join(_STREET_WORDS.get(w, w) for w in words)


def _validated(address: AddressInput, place: Place | None) -> dict[str, Any]:
    country, region = region_of(address)
    city, postal = address.city.upper(), address.postal_code
    loc = place.locality if place is not None else None
    if loc is not None:
        city = city or loc.city
        postal = postal or loc.postal_code
    kind = "StreetOrResidentialAddress" if address.line1 and place else "UnknownAddressType"
    result: dict[str, Any] = {
        "addressType": kind,
        "line1": normalise_street(address.line1),
        "line2": normalise_street(address.line2),
        "line3": normalise_street(address.line3),
        "city": city,
        "region": region,
        "country": country,
        "postalCode": postal,
    }
    return result


def _coordinates(address: AddressInput, place: Place) -> tuple[str, float, float]:
    loc = place.locality
    if loc is not None:
        quality = "Intersection" if address.line1 else "PostalCentroidGood"
        return quality, loc.latitude, loc.longitude
    quality = "RegionCentroid" if place.country == "US" else "CountryCentroid"
    return quality, place.area.latitude, place.area.longitude


def resolve(address: AddressInput) -> dict[str, Any]:
    """The ``AddressResolutionModel`` for ``POST/GET /api/v2/addresses/resolve``."""
    if not is_complete(address):
        raise errors.invalid_address(shown(address), "Address")
    given = {
        "line1": address.line1,
        "line2": address.line2,
        "line3": address.line3,
        "city": address.city,
        "region": address.region,
        "country": address.country,
        "postalCode": address.postal_code,
    }
    place = locate(address)
    validated = _validated(address, place)
    model: dict[str, Any] = {
        "address": {k: v for k, v in given.items() if v},
        "validatedAddresses": [validated],
    }
    if place is None:
        model["resolutionQuality"] = "NotCoded"
        model["messages"] = [
            {
                "summary": "The address could not be found.",
                "details": f"The address {shown(address)} is not in a known tax region.",
                "refersTo": "Address",
                "severity": "Error",
                "source": "Avalara.AvaTax.Services.Address",
            }
        ]
        return model
    quality, latitude, longitude = _coordinates(address, place)
    validated["latitude"] = latitude
    validated["longitude"] = longitude
    model["coordinates"] = {"latitude": latitude, "longitude": longitude}
    model["resolutionQuality"] = quality
    model["taxAuthorities"] = [
        {
            "avalaraId": str(j.jurisdiction_id),
            "jurisdictionName": j.name,
            "jurisdictionType": j.jurisdiction_type,
            "signatureCode": j.signature_code,
        }
        for j in place.jurisdictions
    ]
    return model
