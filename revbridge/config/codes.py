"""ISO code tables and the small annotated types the policy schema is built from.

Country (ISO 3166-1 alpha-2) and currency (ISO 4217, active tender) codes are checked
against the tables below so that a typo such as ``UK`` or ``EURO`` is caught when the policy
is validated, not when the first German invoice is posted. A tax jurisdiction is a country
code optionally followed by a subdivision (``US-NY``, ``CA-QC``); subdivisions are checked for
shape only.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

_COUNTRY_TABLE = """
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
COUNTRIES = frozenset(_COUNTRY_TABLE.split())

_CURRENCY_TABLE = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG
"""
CURRENCIES = frozenset(_CURRENCY_TABLE.split())

_JURISDICTION = re.compile(r"^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$")
_AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")


def _country(value: str) -> str:
    if value not in COUNTRIES:
        raise PydanticCustomError(
            "country", "'{value}' is not an ISO 3166-1 alpha-2 country code", {"value": value}
        )
    return value


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise PydanticCustomError(
            "currency", "'{value}' is not an ISO 4217 currency code", {"value": value}
        )
    return value


def _jurisdiction(value: str) -> str:
    match = _JURISDICTION.match(value)
    if match is None or match.group(1) not in COUNTRIES:
        raise PydanticCustomError(
            "jurisdiction",
            "'{value}' is not a tax jurisdiction: write a country code (GB) or a country and "
            "subdivision code (US-NY)",
            {"value": value},
        )
    return value


def _amount(value: Any) -> Decimal:
    if isinstance(value, int | float | Decimal):  # bool is an int
        raise PydanticCustomError(
            "amount_not_string",
            'amounts must be quoted decimal strings such as "12000.00"; YAML reads an unquoted '
            "number as a binary float or an integer",
        )
    if not isinstance(value, str) or not _AMOUNT.match(value.strip()):
        raise PydanticCustomError("amount", 'an amount must be a decimal string such as "12000.00"')
    try:
        return Decimal(value.strip())
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise PydanticCustomError("amount", "not a decimal amount") from exc


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise PydanticCustomError("amount_negative", "an amount must not be negative")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
"""ISO 3166-1 alpha-2 country code, e.g. ``US``, ``GB``, ``DE``."""

CurrencyCode = Annotated[str, AfterValidator(_currency)]
"""ISO 4217 currency code, e.g. ``USD``, ``GBP``, ``EUR``."""

Jurisdiction = Annotated[str, AfterValidator(_jurisdiction)]
"""A tax jurisdiction: ``GB`` or ``US-NY``."""

Amount = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_non_negative)]
"""A money amount written as a quoted decimal string; never a float."""


def country_of(jurisdiction: str) -> str:
    """The country part of a jurisdiction or market code (``US-NY`` → ``US``)."""
    return jurisdiction.split("-", 1)[0]
