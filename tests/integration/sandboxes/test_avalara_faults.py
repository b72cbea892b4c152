"""AvaTax sandbox: injected faults look like AvaTax's, and retries stay idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import create_app
from revbridge_sandboxes.control import SnapshotFile

ACCOUNT = ("1100000001", "TEST-LICENSE-KEY")
CREATE_OR_ADJUST = "/api/v2/transactions/createoradjust"
INVOICE = {
    "type": "SalesInvoice",
    "code": "INV-RETRY-1",
    "companyCode": "ACME-UK",
    "date": "2024-05-01",
    "customerCode": "CUST-1",
    "commit": True,
    "addresses": {"singleLocation": {"city": "London", "country": "GB", "postalCode": "EC2R"}},
    "lines": [{"amount": 100, "taxCode": "SW054000"}],
}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(create_app(credentials=dict([ACCOUNT]))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, auth=ACCOUNT, timeout=10) as c:
        c.post("/_sandbox/reset")
        yield c
        c.post("/_sandbox/reset")


def inject(client: httpx.Client, **rule: Any) -> None:
    response = client.put("/_sandbox/faults", json={"seed": 1, "rules": [rule]})
    assert response.status_code == 200, response.text


def test_injected_500_has_the_avatax_error_shape(client: httpx.Client) -> None:
    inject(client, path="/api/v2/*", errors={"500": 1.0})
    response = client.post(CREATE_OR_ADJUST, json={"createTransactionModel": INVOICE})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    error = response.json()["error"]
    assert (error["code"], error["target"]) == ("InternalServerError", "AvaTaxApiServer")
    assert error["details"][0]["faultCode"] == "Server"
    assert client.get("/_sandbox/state").json()["counts"]["transactions"] == 0


def test_injected_429_is_a_rate_limit_error_with_retry_after(client: httpx.Client) -> None:
    inject(client, path="/api/v2/*", errors={"429": 1.0}, retry_after_s=2.5)
    response = client.get("/api/v2/companies")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    error = response.json()["error"]
    assert (error["code"], error["details"][0]["number"]) == ("RateLimitExceededError", 1723)


def test_commit_then_drop_on_createoradjust_retried_leaves_one_document(
    client: httpx.Client,
) -> None:
    inject(client, path=CREATE_OR_ADJUST, method="POST", commit_then_drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        client.post(CREATE_OR_ADJUST, json={"createTransactionModel": INVOICE})
    client.put("/_sandbox/faults", json={"rules": []})
    retried = client.post(CREATE_OR_ADJUST, json={"createTransactionModel": INVOICE})
    assert retried.status_code == 201
    state = client.get("/_sandbox/state").json()
    assert state["_faults"] == {"commit_then_drop": 1}
    assert state["counts"]["transactions"] == 1
    [current] = state["transactions"]
    assert (current["code"], current["status"], current["totalTax"]) == (
        "INV-RETRY-1",
        "Committed",
        20,
    )
    fetched = client.get("/api/v2/companies/ACME-UK/transactions/INV-RETRY-1").json()
    assert fetched["id"] == retried.json()["id"]


def test_recorded_documents_survive_a_restart_with_persistence(tmp_path: Path) -> None:
    snapshot = SnapshotFile(tmp_path / "sandboxes.db")
    with serve(create_app(credentials=dict([ACCOUNT]), persist=snapshot)) as url:
        created = httpx.post(
            f"{url}{CREATE_OR_ADJUST}", json={"createTransactionModel": INVOICE}, auth=ACCOUNT
        )
        assert created.status_code == 201
    with serve(create_app(credentials=dict([ACCOUNT]), persist=snapshot)) as url:
        doc = httpx.get(f"{url}/api/v2/companies/ACME-UK/transactions/INV-RETRY-1", auth=ACCOUNT)
        assert doc.json() == created.json()
        again = httpx.post(
            f"{url}{CREATE_OR_ADJUST}", json={"createTransactionModel": INVOICE}, auth=ACCOUNT
        )
        assert again.json()["version"] == 2
        assert again.json()["id"] > created.json()["id"]
