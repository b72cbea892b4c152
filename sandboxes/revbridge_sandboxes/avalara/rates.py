"""The emulator's tax content: jurisdictions, rates, product taxability and tax codes.

This is data, meant to be read and extended. It is illustrative, not tax advice: state
rates and the taxability of software and services follow public rules of thumb, local
rates are the combined rate of one sample city split into a few AvaTax-style
jurisdictions. A destination whose region has no entry here gets
``JurisdictionNotFoundError``; a US address in a known state whose city and ZIP prefix
match no locality is taxed at the state level only.

To add a US state: append a :class:`Region` to ``US_STATES`` (FIPS code as ``code``,
3-digit ZIP prefixes, taxability per category, localities). To add a VAT country:
append to ``VAT_COUNTRIES``. To add a tax code: map it to a category in ``TAX_CODES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

#: Product categories that taxability is expressed in.
TANGIBLE, SAAS, SOFTWARE, SERVICES, NONTAXABLE = (
    "tangible",
    "saas",
    "software",
    "services",
    "nontaxable",
)

#: AvaTax tax code → (category, what the code stands for). ``P0000000`` is the default
#: when a line has no ``taxCode``; codes not listed here are taxed like ``P0000000``.
TAX_CODES: Mapping[str, tuple[str, str]] = {
    "P0000000": (TANGIBLE, "Tangible personal property"),
    "SW054000": (SAAS, "Software as a service (SaaS), remote access subscription"),
    "SW054001": (SAAS, "Software as a service (SaaS), personal use"),
    "SW054002": (SAAS, "Software as a service (SaaS), business use"),
    "SW050000": (SOFTWARE, "Prewritten software, electronically delivered / usage"),
    "SW053000": (SOFTWARE, "Prewritten software, electronically delivered"),
    "SC070000": (SERVICES, "Implementation services associated with the sale of software"),
    "SC070100": (SERVICES, "Implementation services, prewritten software"),
    "SC080000": (SERVICES, "Implementation services not associated with a software sale"),
    "SC080100": (SERVICES, "Implementation services (third-party software)"),
    "S0000000": (SERVICES, "General services"),
    "NT": (NONTAXABLE, "Non-taxable product"),
    "ON030000": (NONTAXABLE, "Non-taxable transaction"),
}
DEFAULT_TAX_CODE = "P0000000"

#: Numeric ids AvaTax reports as ``taxCodeId`` (stable, emulator-assigned).
TAX_CODE_IDS: Mapping[str, int] = {code: 4316 + i for i, code in enumerate(TAX_CODES)}

_ONE, _ZERO = Decimal(1), Decimal(0)


@dataclass(frozen=True)
class Jurisdiction:
    """One taxing authority as AvaTax names it in a transaction detail."""

    juris_type: str  # JurisTypeId: STA, CTY, CIT, STJ, CNT
    code: str  # jurisCode (state FIPS, county/city codes, ISO country)
    name: str  # jurisName
    rate: Decimal
    tax_name: str
    jurisdiction_id: int
    signature_code: str = ""

    @property
    def jurisdiction_type(self) -> str:
        return JURISDICTION_TYPES[self.juris_type]


JURISDICTION_TYPES: Mapping[str, str] = {
    "CNT": "Country",
    "STA": "State",
    "CTY": "County",
    "CIT": "City",
    "STJ": "Special",
}


@dataclass(frozen=True)
class Locality:
    """A city (recognised by name or 3-digit ZIP prefix) and its local jurisdictions."""

    city: str
    postal_code: str
    zip_prefixes: tuple[str, ...]
    latitude: float
    longitude: float
    tax_region_id: int
    jurisdictions: tuple[Jurisdiction, ...] = ()
    other_cities: tuple[str, ...] = ()

    def matches(self, city: str, postal_code: str) -> bool:
        if postal_code[:3] in self.zip_prefixes:
            return True
        return city == self.city or city in self.other_cities


@dataclass(frozen=True)
class Region:
    """A US state or a VAT country: its top jurisdiction, taxability and localities."""

    country: str
    region: str
    top: Jurisdiction
    #: Category → share of the amount that is taxable (0 = not taxable, 0.8 = 80 %).
    taxability: Mapping[str, Decimal]
    localities: tuple[Locality, ...] = ()
    zip_prefixes: tuple[str, ...] = ()
    tax_type: str = "Sales"
    tax_sub_type: str = "S"
    tax_type_group: str = "SalesAndUse"
    rate_type: str = "General"
    rate_type_code: str = "G"
    tax_region_id: int = 0
    latitude: float = 0.0
    longitude: float = 0.0

    def taxable_share(self, category: str) -> Decimal:
        if category == NONTAXABLE:
            return _ZERO
        return self.taxability.get(category, _ONE)

    def locality(self, city: str, postal_code: str) -> Locality | None:
        return next((loc for loc in self.localities if loc.matches(city, postal_code)), None)


def _d(value: str) -> Decimal:
    return Decimal(value)


def _prefixes(*ranges: tuple[int, int]) -> tuple[str, ...]:
    return tuple(f"{n:03d}" for lo, hi in ranges for n in range(lo, hi + 1))


def _taxability(saas: str, software: str, services: str, tangible: str = "1") -> dict[str, Decimal]:
    return {TANGIBLE: _d(tangible), SAAS: _d(saas), SOFTWARE: _d(software), SERVICES: _d(services)}


def _sta(code: str, name: str, region: str, rate: str, jid: int, sig: str) -> Jurisdiction:
    return Jurisdiction("STA", code, name, _d(rate), f"{region} STATE TAX", jid, sig)


def _loc(level: str, code: str, name: str, region: str, rate: str, jid: int) -> Jurisdiction:
    label = {"CTY": "COUNTY", "CIT": "CITY", "STJ": "SPECIAL"}[level]
    return Jurisdiction(level, code, name, _d(rate), f"{region} {label} TAX", jid)


def _state(
    top: tuple[str, str, str, str, int, str],
    taxability: dict[str, Decimal],
    zips: tuple[str, ...],
    centre: tuple[int, float, float],
    *localities: Locality,
) -> Region:
    region, fips, name, rate, jid, sig = top
    return Region(
        "US",
        region,
        _sta(fips, name, region, rate, jid, sig),
        taxability,
        localities,
        zips,
        tax_region_id=centre[0],
        latitude=centre[1],
        longitude=centre[2],
    )


# fmt: off
US_STATES: tuple[Region, ...] = (
    _state(
        ("NY", "36", "NEW YORK", "0.04", 5000960, "BHZP"),
        _taxability(saas="1", software="1", services="0"),
        _prefixes((100, 149)), (2088600, 42.9, -75.5),
        Locality("NEW YORK", "10001", _prefixes((100, 104), (111, 114), (116, 116)),
                 40.750742, -73.99653, 2088629, (
                     _loc("CIT", "51000", "NEW YORK CITY", "NY", "0.045", 5001120),
                     _loc("STJ", "359071", "METROPOLITAN COMMUTER TRANSPORTATION DISTRICT",
                          "NY", "0.00375", 5001224)),
                 ("BROOKLYN", "BRONX", "STATEN ISLAND", "QUEENS", "LONG ISLAND CITY")),
        Locality("ALBANY", "12207", ("122",), 42.65155, -73.75521, 2088710, (
            _loc("CTY", "001", "ALBANY", "NY", "0.04", 5001010),)),
    ),
    _state(
        ("WA", "53", "WASHINGTON", "0.065", 5000885, "BIAX"),
        _taxability(saas="1", software="1", services="0"),
        _prefixes((980, 994)), (2125700, 47.4, -120.5),
        Locality("SEATTLE", "98101", ("980", "981"), 47.610149, -122.342118, 2125800, (
            _loc("CIT", "63000", "SEATTLE", "WA", "0.0385", 5003280),)),
        Locality("BAINBRIDGE ISLAND", "98110", ("983",), 47.62682, -122.52124, 2125744, (
            _loc("CIT", "03736", "BAINBRIDGE ISLAND", "WA", "0.027", 5003197),)),
    ),
    _state(
        ("TX", "48", "TEXAS", "0.0625", 5000893, "BHVU"),
        # Data processing services (SaaS) are taxed on 80 % of the price.
        _taxability(saas="0.8", software="1", services="0"),
        _prefixes((750, 799), (885, 885)), (2114000, 31.2, -99.3),
        Locality("AUSTIN", "78701", ("787",), 30.27127, -97.74103, 2114700, (
            _loc("CIT", "05000", "AUSTIN", "TX", "0.01", 5002530),
            _loc("STJ", "3227999", "AUSTIN MTA TRANSIT", "TX", "0.01", 5002790))),
        Locality("DALLAS", "75201", ("752",), 32.78720, -96.79946, 2114100, (
            _loc("CIT", "19000", "DALLAS", "TX", "0.01", 5002560),
            _loc("STJ", "3057995", "DALLAS MTA TRANSIT", "TX", "0.01", 5002795))),
    ),
    _state(
        ("PA", "42", "PENNSYLVANIA", "0.06", 5000914, "BHYH"),
        _taxability(saas="1", software="1", services="0"),
        _prefixes((150, 196)), (2103000, 40.9, -77.8),
        Locality("PHILADELPHIA", "19102", ("190", "191"), 39.95253, -75.16522, 2103300, (
            _loc("CTY", "101", "PHILADELPHIA", "PA", "0.02", 5002210),)),
        Locality("PITTSBURGH", "15222", ("150", "151", "152"), 40.44927, -79.9904, 2103100, (
            _loc("CTY", "003", "ALLEGHENY", "PA", "0.01", 5002211),)),
    ),
    _state(
        # The CA state detail's ids follow a real AvaTax response for Irvine.
        ("CA", "06", "CALIFORNIA", "0.06", 5000531, "AGAM"),
        _taxability(saas="0", software="0", services="0"),
        _prefixes((900, 961)), (2127000, 36.8, -119.4),
        Locality("IRVINE", "92614", ("926",), 33.684689, -117.851495, 2127863, (
            _loc("CTY", "059", "ORANGE", "CA", "0.0025", 267),
            _loc("STJ", "EMAR0", "ORANGE CO LOCAL TAX SL", "CA", "0.01", 2001061425),
            _loc("STJ", "EMTN0", "ORANGE COUNTY DISTRICT TAX SP", "CA", "0.005", 2001061784))),
        Locality("LOS ANGELES", "90012", ("900",), 34.05357, -118.24545, 2127100, (
            _loc("CTY", "037", "LOS ANGELES", "CA", "0.0025", 267201),
            _loc("STJ", "EMAQ0", "LOS ANGELES CO LOCAL TAX SL", "CA", "0.01", 2001061424),
            _loc("STJ", "EMBE0", "LOS ANGELES COUNTY DISTRICT TAX SP", "CA", "0.0225",
                 2001061791))),
        Locality("SAN FRANCISCO", "94103", ("941",), 37.77271, -122.41048, 2127400, (
            _loc("CTY", "075", "SAN FRANCISCO", "CA", "0.0025", 267301),
            _loc("STJ", "EMBR0", "SAN FRANCISCO CO LOCAL TAX SL", "CA", "0.01", 2001061430),
            _loc("STJ", "EMBS0", "SAN FRANCISCO COUNTY DISTRICT TAX SP", "CA", "0.01375",
                 2001061793))),
    ),
    _state(
        ("MA", "25", "MASSACHUSETTS", "0.0625", 5000630, "BHTG"),
        _taxability(saas="1", software="1", services="0"),
        _prefixes((10, 27)), (2095000, 42.3, -71.8),
        Locality("BOSTON", "02108", ("021", "022"), 42.35763, -71.063, 2095100),
    ),
    _state(
        ("FL", "12", "FLORIDA", "0.06", 5000556, "BHNF"),
        _taxability(saas="0", software="0", services="0"),
        _prefixes((320, 349)), (2091000, 27.8, -81.7),
        Locality("MIAMI", "33130", ("331",), 25.76809, -80.20213, 2091700, (
            _loc("CTY", "086", "MIAMI-DADE", "FL", "0.01", 5001820),)),
    ),
    _state(
        ("IL", "17", "ILLINOIS", "0.0625", 5000580, "BHPS"),
        _taxability(saas="0", software="1", services="0"),
        _prefixes((600, 629)), (2092000, 40.0, -89.2),
        Locality("CHICAGO", "60602", ("606",), 41.88325, -87.62979, 2092900, (
            _loc("CTY", "031", "COOK", "IL", "0.0175", 5001510),
            _loc("CIT", "14000", "CHICAGO", "IL", "0.0125", 5001530),
            _loc("STJ", "AQOF", "REGIONAL TRANSPORT. AUTHORITY (RTA)", "IL", "0.01", 5001590))),
    ),
    _state(
        # Oregon has no sales tax: every line is reported at a zero rate.
        ("OR", "41", "OREGON", "0", 5000900, "BHXU"),
        _taxability(saas="1", software="1", services="1"),
        _prefixes((970, 979)), (2102000, 44.0, -120.5),
        Locality("PORTLAND", "97205", ("972",), 45.52056, -122.68463, 2102600),
    ),
)
# fmt: on


def _vat(
    code: str, name: str, rate: str, jid: int, region_id: int, lat: float, lon: float
) -> Region:
    top = Jurisdiction("CNT", code, name, _d(rate), "Standard", jid)
    return Region(
        code,
        code,
        top,
        _taxability(saas="1", software="1", services="1"),
        tax_type="Output",
        tax_sub_type="O",
        tax_type_group="InputAndOutput",
        rate_type="Standard",
        rate_type_code="S",
        tax_region_id=region_id,
        latitude=lat,
        longitude=lon,
    )


#: VAT countries: standard rate for everything but non-taxable codes.
VAT_COUNTRIES: tuple[Region, ...] = (
    _vat("GB", "UNITED KINGDOM", "0.20", 200110, 205110, 51.5074, -0.1278),
    _vat("DE", "GERMANY", "0.19", 200079, 205079, 52.52, 13.405),
    _vat("FR", "FRANCE", "0.20", 200077, 205077, 48.8566, 2.3522),
    _vat("NL", "NETHERLANDS", "0.21", 200099, 205099, 52.3676, 4.9041),
    _vat("IE", "IRELAND", "0.23", 200085, 205085, 53.3498, -6.2603),
)

REGIONS: Mapping[tuple[str, str], Region] = {
    (r.country, r.region): r for r in (*US_STATES, *VAT_COUNTRIES)
}
US_REGION_BY_ZIP: Mapping[str, str] = {p: r.region for r in US_STATES for p in r.zip_prefixes}

#: Country spellings accepted besides ISO 3166 alpha-2 codes.
COUNTRY_ALIASES: Mapping[str, str] = {
    "USA": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "UK": "GB",
    "GBR": "GB",
    "UNITED KINGDOM": "GB",
    "DEU": "DE",
    "GERMANY": "DE",
    "FRA": "FR",
    "FRANCE": "FR",
    "NLD": "NL",
    "NETHERLANDS": "NL",
    "IRL": "IE",
    "IRELAND": "IE",
    "CAN": "CA",
    "CANADA": "CA",
}


def category_of(tax_code: str) -> tuple[str, bool]:
    """The category of ``tax_code`` and whether the code is one this table knows."""
    entry = TAX_CODES.get(tax_code.upper())
    if entry is None:
        return TANGIBLE, False
    return entry[0], True
