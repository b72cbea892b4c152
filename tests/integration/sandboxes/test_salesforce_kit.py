"""Helpers shared by the Salesforce sandbox tests (imported by the test_salesforce_* files).

simple-salesforce always builds ``https://`` URLs from the instance host, so SDK tests give
it a ``requests.Session`` whose transport sends every ``https://`` request to the sandbox's
plain-HTTP base URL: only the base changes, the SDK code runs unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox
from revbridge_sandboxes.salesforce import create_app

CLIENT_ID = "revbridge-sandbox-client"
CLIENT_SECRET = "revbridge-sandbox-secret"
USERNAME = "integration@revbridge.example"
PASSWORD = "sandbox-password"
API = "/services/data/v59.0"


class ToSandbox(HTTPAdapter):
    """Transport sending ``https://<any host>/path`` to ``http://<sandbox>/path``."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        request.url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, *args, **kwargs)


def sdk_session(base_url: str) -> requests.Session:
    session = requests.Session()
    session.mount("https://", ToSandbox(base_url))
    return session


def get_token(client: httpx.Client) -> str:
    """A fresh session token; ``client`` has the sandbox's base URL."""
    response = client.post(
        "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@dataclass
class Env:
    sandbox: Sandbox
    base_url: str
    token: str
    api: httpx.Client
    #: No credentials, base URL only: for OAuth and ``/_sandbox`` routes.
    raw: httpx.Client

    def sdk(self) -> Salesforce:
        return Salesforce(
            instance_url=self.base_url, session_id=self.token, session=sdk_session(self.base_url)
        )

    def create(self, type_name: str, **fields: Any) -> str:
        response = self.api.post(f"/sobjects/{type_name}", json=fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def get(self, type_name: str, record_id: str) -> dict[str, Any]:
        response = self.api.get(f"/sobjects/{type_name}/{record_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def query(self, soql: str) -> dict[str, Any]:
        response = self.api.get("/query", params={"q": soql})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def standard_pricebook(self) -> str:
        return str(
            self.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true")["records"][0]["Id"]
        )

    def priced_product(self, code: str, price: str, currency: str = "USD") -> tuple[str, str]:
        """A product with a standard price: ``(product id, price book entry id)``."""
        product = self.create("Product2", Name=f"Product {code}", ProductCode=code, IsActive=True)
        entry = self.create(
            "PricebookEntry",
            Pricebook2Id=self.standard_pricebook(),
            Product2Id=product,
            UnitPrice=price,
            IsActive=True,
            CurrencyIsoCode=currency,
        )
        return product, entry

    def events(self, after: int = 0, entity: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after}
        if entity:
            params["entity"] = entity
        response = self.raw.get("/_sandbox/cdc/events", params=params)
        return list(response.json()["events"])


def start(**options: Any) -> Iterator[Env]:
    sandbox = create_app(**{"cometd_timeout_s": 2.0, **options})
    with serve(sandbox) as base_url, httpx.Client(base_url=base_url) as raw:
        token = get_token(raw)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url + API, headers=headers) as api:
            yield Env(sandbox, base_url, token, api, raw)


def fresh(env: Env) -> Env:
    """``env`` reset to a fresh org (sessions survive a reset)."""
    assert env.raw.post("/_sandbox/reset").status_code == 200
    return env
