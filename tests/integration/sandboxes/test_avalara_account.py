"""AvaTax sandbox: authentication, ping, companies, nexus and address resolution."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import create_app

ACCOUNT = ("1100000001", "TEST-LICENSE-KEY")
USER = ("ops@example.test", "s3cret")
TOKEN = "test-bearer-token"
CREATE_BODY = {
    "companyCode": "ACME-US",
    "date": "2024-05-01",
    "customerCode": "C",
    "addresses": {"singleLocation": {"postalCode": "10118"}},
    "lines": [{"amount": 10}],
}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_app(
        credentials=dict([ACCOUNT, USER]), bearer_tokens=[TOKEN], account_id=1100000001
    )
    with serve(app) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, auth=ACCOUNT, timeout=10) as c:
        yield c


def basic(name: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        (basic(*ACCOUNT), "AccountIdLicenseKey"),
        (basic(*USER), "UsernamePassword"),
        ({"Authorization": f"Bearer {TOKEN}"}, "OpenIdBearerToken"),
    ],
)
def test_basic_and_bearer_credentials_are_accepted(
    base_url: str, headers: dict[str, str], kind: str
) -> None:
    ping = httpx.get(f"{base_url}/api/v2/utilities/ping", headers=headers).json()
    assert (ping["authenticated"], ping["authenticationType"]) == (True, kind)
    assert ping["authenticatedAccountId"] == 1100000001
    created = httpx.post(
        f"{base_url}/api/v2/transactions/create", json=CREATE_BODY, headers=headers
    )
    assert created.status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        basic(ACCOUNT[0], "wrong-key"),
        basic("nobody", "nothing"),
        {"Authorization": "Bearer not-a-token"},
    ],
)
def test_bad_credentials_get_401_authentication_exception(
    base_url: str, headers: dict[str, str]
) -> None:
    response = httpx.post(
        f"{base_url}/api/v2/transactions/create", json=CREATE_BODY, headers=headers
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["target"]) == ("AuthenticationException", "HttpRequestHeaders")
    assert error["details"][0]["number"] == 30


def test_missing_credentials_get_401_authentication_incomplete(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/v2/companies")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationIncomplete"


def test_ping_answers_unauthenticated_callers(base_url: str) -> None:
    for headers in ({}, basic("1234", "4321")):
        response = httpx.get(f"{base_url}/api/v2/utilities/ping", headers=headers)
        assert response.status_code == 200
        assert '"authenticated":false' in response.text


def test_companies_are_listed_as_a_fetch_result(client: httpx.Client) -> None:
    result = client.get("/api/v2/companies").json()
    assert result["@recordsetCount"] == 3
    codes = {c["companyCode"]: c for c in result["value"]}
    assert set(codes) == {"ACME-US", "ACME-UK", "ACME-DE"}
    assert codes["ACME-US"]["isDefault"] is True
    assert codes["ACME-UK"]["baseCurrencyCode"] == "GBP"


def test_company_nexus_lists_its_jurisdictions(client: httpx.Client) -> None:
    companies = client.get("/api/v2/companies").json()["value"]
    us = next(c for c in companies if c["companyCode"] == "ACME-US")
    nexus = client.get(f"/api/v2/companies/{us['id']}/nexus").json()
    assert {n["region"] for n in nexus["value"]} == {"NY", "WA", "TX", "PA", "CA"}
    assert all(n["jurisTypeId"] == "STA" and n["country"] == "US" for n in nexus["value"])
    missing = client.get("/api/v2/companies/999/nexus")
    assert missing.status_code == 404


def test_resolve_normalises_and_geocodes_a_us_address(client: httpx.Client) -> None:
    address = {"line1": "1000 Main Street", "city": "Irvine", "region": "CA", "country": "US"}
    result = client.post("/api/v2/addresses/resolve", json=address).json()
    [validated] = result["validatedAddresses"]
    assert (validated["line1"], validated["city"], validated["postalCode"]) == (
        "1000 MAIN ST",
        "IRVINE",
        "92614",
    )
    assert isinstance(result["coordinates"]["latitude"], float)
    assert result["resolutionQuality"] == "Intersection"
    assert [t["jurisdictionType"] for t in result["taxAuthorities"]][:2] == ["State", "County"]


def test_resolve_by_query_string_works_like_post(client: httpx.Client) -> None:
    params = {"line1": "350 5th Ave", "postalCode": "10118"}
    result = client.get("/api/v2/addresses/resolve", params=params).json()
    assert result["validatedAddresses"][0]["region"] == "NY"


def test_resolve_of_an_incomplete_address_is_a_400(client: httpx.Client) -> None:
    response = client.post("/api/v2/addresses/resolve", json={"line1": "Incomplete Address"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidAddress"
    unauthenticated = httpx.post(str(client.base_url) + "/api/v2/addresses/resolve", json={})
    assert unauthenticated.status_code == 401
