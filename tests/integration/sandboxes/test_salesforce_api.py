"""OAuth, versions, limits, faults, collections and persistence of the Salesforce sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_salesforce_kit import (
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    Env,
    fresh,
    get_token,
    start,
)

from revbridge.testing.servers import serve
from revbridge_sandboxes.control import SnapshotFile
from revbridge_sandboxes.salesforce import create_app


@pytest.fixture(scope="module")
def shared_env() -> Iterator[Env]:
    yield from start()


@pytest.fixture
def env(shared_env: Env) -> Env:
    return fresh(shared_env)


def _token(env: Env, **form: str) -> httpx.Response:
    return env.raw.post("/services/oauth2/token", data=form)


def test_token_endpoint_answers_like_salesforce(env: Env) -> None:
    response = _token(
        env,
        grant_type="password",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        username=USERNAME,
        password=PASSWORD,
    )
    body = response.json()
    assert response.status_code == 200
    assert body["instance_url"] == env.base_url
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("00D")
    assert "!" in body["access_token"]
    assert body["id"].startswith(f"{env.base_url}/id/00D")
    expected = hmac.new(
        CLIENT_SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    )
    assert body["signature"] == base64.b64encode(expected.digest()).decode()

    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    client = env.raw.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert client.status_code == 200
    assert client.json()["access_token"] != body["access_token"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {
                "grant_type": "password",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "username": USERNAME,
                "password": "bad",
            },
            "invalid_grant",
        ),
        (
            {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "bad"},
            "invalid_client",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "other",
                "client_secret": CLIENT_SECRET,
            },
            "invalid_client_id",
        ),
        ({"grant_type": "magic"}, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_errors(env: Env, form: dict[str, str], error: str) -> None:
    response = _token(env, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_calls_need_a_live_bearer_token(env: Env) -> None:
    no_token = env.raw.get(f"{API}/sobjects")
    assert no_token.status_code == 401
    assert no_token.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    token = get_token(env.raw)
    headers = {"Authorization": f"Bearer {token}"}
    assert env.raw.get(f"{API}/limits", headers=headers).status_code == 200
    assert env.raw.post("/services/oauth2/revoke", data={"token": token}).status_code == 200
    assert env.raw.get(f"{API}/limits", headers=headers).status_code == 401


def test_versions_and_resources(env: Env) -> None:
    versions = env.raw.get("/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert env.api.get("").json()["sobjects"] == "/services/data/v59.0/sobjects"
    other = env.raw.get("/services/data/v62.0/sobjects/Account/describe", headers=env.api.headers)
    assert other.status_code == 200
    assert other.json()["keyPrefix"] == "001"
    too_old = env.raw.get("/services/data/v19.0/sobjects", headers=env.api.headers)
    assert too_old.status_code == 404
    assert too_old.json()[0]["errorCode"] == "NOT_FOUND"
    unknown = env.api.get("/nothing/here")
    assert unknown.status_code == 404
    assert unknown.json()[0]["errorCode"] == "NOT_FOUND"
    wrong = env.api.put("/sobjects/Account")
    assert wrong.status_code == 405
    assert wrong.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_every_response_carries_api_usage(env: Env) -> None:
    first = env.api.get("/limits")
    used, limit = first.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    assert int(limit) == 1_000_000
    second = env.api.get("/sobjects/Account/xyz")
    assert second.status_code == 404
    assert second.headers["Sforce-Limit-Info"] == f"api-usage={int(used) + 1}/{limit}"
    assert first.json()["DailyApiRequests"] == {
        "Max": 1_000_000,
        "Remaining": 1_000_000 - int(used),
    }


@pytest.fixture
def small_allocation() -> Iterator[Env]:
    yield from start(daily_api_limit=2)


def test_spent_allocation_answers_403_until_raised(small_allocation: Env) -> None:
    api = small_allocation.api
    assert api.get("/limits").headers["Sforce-Limit-Info"] == "api-usage=1/2"
    assert api.get("/limits").status_code == 200
    refused = api.get("/limits")
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=2/2"
    small_allocation.raw.put("/_sandbox/limits", json={"daily_api_limit": 10})
    assert api.get("/limits").status_code == 200


def test_injected_faults_use_salesforce_error_shape(env: Env) -> None:
    rules = {"rules": [{"path": "/services/data/*", "errors": {"503": 1.0}}]}
    assert env.raw.put("/_sandbox/faults", json=rules).status_code == 200
    response = env.api.get("/sobjects")
    assert response.status_code == 503
    assert response.json() == [
        {
            "message": "Server is temporarily unavailable due to maintenance or overload. "
            "Try again later.",
            "errorCode": "SERVER_UNAVAILABLE",
        }
    ]
    assert "retry-after" not in response.headers
    env.raw.put("/_sandbox/faults", json={"rules": [{"errors": {"429": 1.0}}]})
    throttled = env.api.get("/sobjects")
    assert throttled.status_code == 429
    assert throttled.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert (
        throttled.json()[0]["message"]
        == "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
    )


def test_collections_all_or_none_rolls_back_everything(env: Env) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Ok"},
        {"attributes": {"type": "Account"}, "Name": "Bad", "Nope__c": 1},
    ]
    response = env.api.post("/composite/sobjects", json={"allOrNone": True, "records": records})
    assert response.status_code == 200
    first, second = response.json()
    assert first["success"] is False
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert env.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_collections_refuse_more_than_200_records(env: Env) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(201)]
    response = env.api.post("/composite/sobjects", json={"records": records})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]


def test_collections_update_and_upsert(env: Env) -> None:
    account = env.create("Account", Name="Old")
    updated = env.api.patch(
        "/composite/sobjects",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "id": account, "Name": "New"},
                {"attributes": {"type": "Account"}, "Name": "No id"},
            ]
        },
    ).json()
    assert updated[0] == {"id": account, "success": True, "errors": []}
    assert updated[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"

    upserted = env.api.patch(
        "/composite/sobjects/Account/Revbridge_Id__c",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Revbridge_Id__c": "U-1", "Name": "One"},
                {"attributes": {"type": "Account"}, "Revbridge_Id__c": "U-1", "Name": "One again"},
            ],
        },
    ).json()
    assert [r["created"] for r in upserted] == [True, False]
    assert upserted[0]["id"] == upserted[1]["id"]
    assert env.get("Account", upserted[0]["id"])["Name"] == "One again"


def test_state_survives_a_restart_with_persistence(tmp_path: Path) -> None:
    store = tmp_path / "sandboxes.sqlite"
    with (
        serve(create_app(persist=SnapshotFile(store))) as base_url,
        httpx.Client(base_url=base_url) as http,
    ):
        headers = {"Authorization": f"Bearer {get_token(http)}"}
        body = {"Name": "Kept", "AnnualRevenue": "10.5"}
        account = http.post(f"{API}/sobjects/Account", json=body, headers=headers).json()["id"]
    with (
        serve(create_app(persist=SnapshotFile(store))) as base_url,
        httpx.Client(base_url=base_url) as http,
    ):
        read = http.get(f"{API}/sobjects/Account/{account}", headers=headers)
        assert read.status_code == 200
        assert read.json()["Name"] == "Kept"
        assert '"AnnualRevenue":10.50' in read.text
        assert len(http.get("/_sandbox/cdc/events").json()["events"]) == 1
