"""SalesforceClient: thin typed calls on the REST API, returning Salesforce's own dicts.

Authentication is OAuth 2.0 against ``/services/oauth2/token`` (client credentials, or the
username-password flow when the policy gives a username): the access token is cached and
fetched again once when a call answers 401 ``INVALID_SESSION_ID``. JSON numbers are read
as ``Decimal``, so amounts keep every digit. Which fields a deal needs is written here, in
the SOQL of :meth:`SalesforceClient.opportunity`, :meth:`line_items` and :meth:`ancestors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from revbridge.connectors.http import HttpCaller, LoopLock, describe_request, describe_response
from revbridge.connectors.salesforce.classify import classify
from revbridge.errors import AuthError, ConnectorError, RetryableError
from revbridge.observability import redaction

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 (a path, not a password)

#: Deepest parent chain read above a deal's account (SOQL allows five relationship hops).
MAX_ANCESTORS = 5

ACCOUNT_FIELDS = (
    "Id",
    "Name",
    "ParentId",
    "CurrencyIsoCode",
    "Tax_Id__c",
    "Tax_Exempt__c",
    "Payment_Terms__c",
    "BillingStreet",
    "BillingCity",
    "BillingState",
    "BillingStateCode",
    "BillingPostalCode",
    "BillingCountry",
    "BillingCountryCode",
    "ShippingStreet",
    "ShippingCity",
    "ShippingState",
    "ShippingStateCode",
    "ShippingPostalCode",
    "ShippingCountry",
    "ShippingCountryCode",
)
OPPORTUNITY_FIELDS = (
    "Id",
    "Name",
    "AccountId",
    "StageName",
    "IsWon",
    "CloseDate",
    "CurrencyIsoCode",
    "SystemModstamp",
    "LastModifiedDate",
    "Correlation_Id__c",
    "Contract_Start_Date__c",
    "Contract_End_Date__c",
    "Billing_Frequency__c",
    "Auto_Renew__c",
)
LINE_FIELDS = (
    "Id",
    "Quantity",
    "UnitPrice",
    "TotalPrice",
    "Discount",
    "ServiceDate",
    "Description",
    "SortOrder",
    "PricebookEntry.Product2.ProductCode",
    "PricebookEntry.Product2.Family",
    "PricebookEntry.Product2.Name",
)


def _access_token(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    token = body.get("access_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None


def soql_literal(value: str) -> str:
    """``value`` as a quoted SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def select(fields: Iterable[str], sobject: str, where: str, order_by: str = "") -> str:
    """A SOQL query; every value in ``where`` must come from :func:`soql_literal`."""
    text = f"SELECT {', '.join(fields)} FROM {sobject} WHERE {where}"  # noqa: S608
    return f"{text} ORDER BY {order_by}" if order_by else text


class OAuthSession:
    """The HttpCaller ``Auth`` hook: a cached OAuth 2.0 access token, fetched on demand."""

    def __init__(self, system: str, form: dict[str, str]) -> None:
        self.system = system
        self._form = form
        self._token: str | None = None
        self._lock = LoopLock()

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        token = self._token or await self._fetch(client, stale=None)
        return {"Authorization": f"Bearer {token}"}

    async def refresh(self, client: httpx.AsyncClient) -> None:
        await self._fetch(client, stale=self._token)

    async def _fetch(self, client: httpx.AsyncClient, stale: str | None) -> str:
        async with self._lock.current():
            if self._token is not None and self._token != stale:
                return self._token  # another task fetched one meanwhile
            self._token = await self._request_token(client)
            return self._token

    async def _request_token(self, client: httpx.AsyncClient) -> str:
        request = client.build_request("POST", TOKEN_PATH, data=self._form)
        try:
            response = await client.send(request)
        except httpx.TransportError as exc:
            raise self._enriched(
                RetryableError(f"{self.system}: token request failed ({type(exc).__name__})"),
                request,
            ) from exc
        error = classify(response)
        if error is None:
            token = _access_token(response)
            if token is not None:
                redaction.register_secret(token)
                return token
            error = AuthError(f"{self.system}: the token answer has no access_token")
        raise self._enriched(error, request, response)

    def _enriched(
        self, error: ConnectorError, request: httpx.Request, response: httpx.Response | None = None
    ) -> ConnectorError:
        error.system = self.system
        error.request = describe_request(request)
        if response is not None:
            error.status = response.status_code
            error.response = describe_response(response)
        error.args = (redaction.scrub_text(str(error)),)
        return error


class SalesforceClient:
    """The REST calls revbridge makes, on one org, at one API version."""

    def __init__(self, http: HttpCaller, api_version: str) -> None:
        self.http = http
        self.api_version = api_version
        self.data_path = f"/services/data/v{api_version}"

    async def query(self, soql: str, *, operation: str = "query") -> list[dict[str, Any]]:
        """Every record ``soql`` selects, following ``nextRecordsUrl`` pages."""
        page = await self._get(f"{self.data_path}/query", operation, params={"q": soql})
        records: list[dict[str, Any]] = list(page.get("records") or [])
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = await self._get(str(page["nextRecordsUrl"]), operation)
            records.extend(page.get("records") or [])
        return records

    async def opportunity(self, opportunity_id: str) -> dict[str, Any] | None:
        """The opportunity with its account's fields under ``Account``, or None."""
        fields = [*OPPORTUNITY_FIELDS, *(f"Account.{name}" for name in ACCOUNT_FIELDS)]
        rows = await self.query(
            select(fields, "Opportunity", f"Id = {soql_literal(opportunity_id)}"),
            operation="read_opportunity",
        )
        return rows[0] if rows else None

    async def line_items(self, opportunity_id: str) -> list[dict[str, Any]]:
        """The opportunity's products, each with ``PricebookEntry.Product2``."""
        return await self.query(
            select(
                LINE_FIELDS,
                "OpportunityLineItem",
                f"OpportunityId = {soql_literal(opportunity_id)}",
                order_by="SortOrder ASC NULLS LAST, Id ASC",
            ),
            operation="read_line_items",
        )

    async def ancestors(self, account_id: str) -> dict[str, Any] | None:
        """The account and its parents through ``Parent.Parent...``: ``MAX_ANCESTORS`` in all."""
        fields = [
            "Parent." * depth + name for depth in range(MAX_ANCESTORS) for name in ACCOUNT_FIELDS
        ]
        rows = await self.query(
            select(fields, "Account", f"Id = {soql_literal(account_id)}"),
            operation="read_account_hierarchy",
        )
        return rows[0] if rows else None

    async def opportunity_account(self, opportunity_id: str) -> str | None:
        """The ``AccountId`` of an opportunity."""
        record = await self._get(
            f"{self.data_path}/sobjects/Opportunity/{quote(opportunity_id, safe='')}",
            "read_opportunity_account",
            params={"fields": "AccountId"},
        )
        account = record.get("AccountId")
        return str(account) if account else None

    async def update_records(self, records: list[dict[str, Any]], *, operation: str) -> None:
        """Update records of any types in one all-or-none sObject Collections call.

        Each record carries ``attributes.type`` and ``id``; an update sets fields to
        values, so sending it again changes nothing more.
        """
        await self.http.call(
            "PATCH",
            f"{self.data_path}/composite/sobjects",
            operation=operation,
            json_body={"allOrNone": True, "records": records},
            idempotent=True,
        )

    async def upsert(
        self, sobject: str, key_field: str, key: str, fields: dict[str, Any], *, operation: str
    ) -> None:
        """``PATCH …/sobjects/{type}/{external id field}/{value}``: create or update the
        record with that external id (sending it again changes nothing more)."""
        await self.http.call(
            "PATCH",
            f"{self.data_path}/sobjects/{sobject}/{key_field}/{quote(key, safe='')}",
            operation=operation,
            json_body=fields,
            idempotent=True,
        )

    async def _get(
        self, path: str, operation: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self.http.call("GET", path, operation=operation, params=params)
        body = response.json(parse_float=Decimal)
        return body if isinstance(body, dict) else {}
