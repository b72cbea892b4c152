"""State and country picklists (the org has them on), and how address fields are resolved.

With the picklists on, an address can be written by name (``BillingCountry``) or by code
(``BillingCountryCode``); Salesforce fills in the other one and refuses values that are not
in the picklist. Countries listed here without states take no state at all.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.salesforce.errors import SalesforceError, bad_request

COUNTRIES: dict[str, str] = {
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CL": "Chile",
    "CN": "China",
    "CO": "Colombia",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "EG": "Egypt",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HK": "Hong Kong",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IN": "India",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "Korea, Republic of",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MX": "Mexico",
    "MY": "Malaysia",
    "NG": "Nigeria",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PE": "Peru",
    "PH": "Philippines",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SA": "Saudi Arabia",
    "SE": "Sweden",
    "SG": "Singapore",
    "SK": "Slovakia",
    "TH": "Thailand",
    "TR": "Turkey",
    "TW": "Taiwan",
    "UA": "Ukraine",
    "AE": "United Arab Emirates",
    "US": "United States",
    "VN": "Vietnam",
    "ZA": "South Africa",
}

STATES: dict[str, dict[str, str]] = {
    "US": {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "DC": "District of Columbia",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
        "PR": "Puerto Rico",
    },
    "CA": {
        "AB": "Alberta",
        "BC": "British Columbia",
        "MB": "Manitoba",
        "NB": "New Brunswick",
        "NL": "Newfoundland and Labrador",
        "NS": "Nova Scotia",
        "NT": "Northwest Territories",
        "NU": "Nunavut",
        "ON": "Ontario",
        "PE": "Prince Edward Island",
        "QC": "Quebec",
        "SK": "Saskatchewan",
        "YT": "Yukon Territories",
    },
    "AU": {
        "ACT": "Australian Capital Territory",
        "NSW": "New South Wales",
        "NT": "Northern Territory",
        "QLD": "Queensland",
        "SA": "South Australia",
        "TAS": "Tasmania",
        "VIC": "Victoria",
        "WA": "Western Australia",
    },
}

_COUNTRY_BY_NAME = {name.lower(): code for code, name in COUNTRIES.items()}
_STATE_BY_NAME = {
    country: {name.lower(): code for code, name in states.items()}
    for country, states in STATES.items()
}


def _country_error(prefix: str) -> SalesforceError:
    return bad_request(
        "FIELD_INTEGRITY_EXCEPTION",
        "There's a problem with this country, even though it may appear correct. "
        "Please select a country/territory from the list of valid countries.",
        [f"{prefix}CountryCode"],
    )


def _state_error(prefix: str) -> SalesforceError:
    return bad_request(
        "FIELD_INTEGRITY_EXCEPTION",
        "There's a problem with this state, even though it may appear correct. "
        "Please select a state from the list of valid states.",
        [f"{prefix}StateCode"],
    )


def resolve_address(prefix: str, record: dict[str, Any], written: set[str]) -> None:
    """Fill in and check the country and state pair of the ``prefix`` address in place.

    ``written`` holds the field names the request set, so a name written alone wins over
    a code left from before (and the other way round).
    """
    country_code = _resolve_country(prefix, record, written)
    state_name, state_code = f"{prefix}State", f"{prefix}StateCode"
    if state_name not in written and state_code not in written and country_code is None:
        return
    states = STATES.get(country_code or "", {})
    code: str | None = record.get(state_code)
    name: str | None = record.get(state_name)
    if state_name in written and state_code not in written:
        code = _STATE_BY_NAME.get(country_code or "", {}).get(name.lower()) if name else None
        if name and code is None:
            raise _state_error(prefix)
    if code is not None and code not in states:
        if state_code in written or state_name in written:
            raise _state_error(prefix)
        code = None
    record[state_code] = code
    record[state_name] = states[code] if code else None


def _resolve_country(prefix: str, record: dict[str, Any], written: set[str]) -> str | None:
    name_field, code_field = f"{prefix}Country", f"{prefix}CountryCode"
    code: str | None = record.get(code_field)
    name: str | None = record.get(name_field)
    if name_field in written and code_field not in written:
        code = _COUNTRY_BY_NAME.get(name.lower()) if name else None
        if name and code is None:
            raise _country_error(prefix)
    elif code_field in written:
        if code is not None and code not in COUNTRIES:
            raise _country_error(prefix)
        if name_field in written and name and code and _COUNTRY_BY_NAME.get(name.lower()) != code:
            raise _country_error(prefix)
    record[code_field] = code
    record[name_field] = COUNTRIES[code] if code else None
    return code
