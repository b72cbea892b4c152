"""Thin typed calls on NetSuite's REST web services (record service and SuiteQL).

Paths are ``/services/rest/record/v1/{recordType}/{id | eid:externalId}`` and
``/services/rest/query/v1/suiteql``. Every write asks NetSuite to refuse unknown field
names (``X-NetSuite-PropertyNameValidation: Error``) rather than drop them with a
warning. Answers are returned as NetSuite's own dicts; ids come back as strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from revbridge.connectors.http import HttpCaller

RECORD_PATH = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
WRITE_HEADERS = {"X-NetSuite-PropertyNameValidation": "Error"}
SUITEQL_HEADERS = {"Prefer": "transient"}
SUITEQL_PAGE = 1000


def record_path(record_type: str, key: str) -> str:
    return f"{RECORD_PATH}/{record_type}/{quote(key, safe=':@')}"


def external_key(external_id: str) -> str:
    """How a record is named by its external id in a record URL."""
    return f"eid:{external_id}"


def id_from_location(location: str | None) -> str | None:
    """The internal id at the end of a ``Location`` (``…/record/v1/customer/647`` → ``647``)."""
    if not location:
        return None
    last = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return last if last and not last.startswith("eid:") else None


class NetSuiteClient:
    """The REST calls the ERP adapter needs, on one :class:`HttpCaller`."""

    def __init__(self, http: HttpCaller) -> None:
        self.http = http

    async def upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> str | None:
        """``PUT …/{type}/eid:{externalId}``: create or update; the internal id if told."""
        response = await self.http.call(
            "PUT",
            record_path(record_type, external_key(external_id)),
            operation=f"{record_type}.upsert",
            json_body=body,
            headers=WRITE_HEADERS,
        )
        return id_from_location(response.headers.get("location"))

    async def get(
        self,
        record_type: str,
        key: str,
        *,
        fields: Iterable[str] = (),
        expand: bool = False,
    ) -> dict[str, Any]:
        """One record by internal id or ``eid:…`` key; sublists inline when ``expand``."""
        params: dict[str, str] = {}
        if wanted := ",".join(fields):
            params["fields"] = wanted
        if expand:
            params["expandSubResources"] = "true"
        response = await self.http.call(
            "GET", record_path(record_type, key), operation=f"{record_type}.get", params=params
        )
        body: dict[str, Any] = response.json()
        return body

    async def patch(
        self, record_type: str, internal_id: str, body: dict[str, Any], *, idempotent: bool
    ) -> None:
        """``PATCH …/{type}/{id}``: change the fields and sublist lines given."""
        await self.http.call(
            "PATCH",
            record_path(record_type, internal_id),
            operation=f"{record_type}.patch",
            json_body=body,
            headers=WRITE_HEADERS,
            idempotent=idempotent,
        )

    async def transform(
        self, record_type: str, internal_id: str, target: str, body: dict[str, Any]
    ) -> str | None:
        """``POST …/{type}/{id}/!transform/{target}``: the new record's id if told. Safe to
        repeat only when ``body`` carries an ``externalId`` (NetSuite refuses a second one)."""
        response = await self.http.call(
            "POST",
            f"{record_path(record_type, internal_id)}/!transform/{target}",
            operation=f"{record_type}.transform.{target}",
            json_body=body,
            headers=WRITE_HEADERS,
            idempotent=True,
        )
        return id_from_location(response.headers.get("location"))

    async def suiteql(self, query: str) -> list[dict[str, Any]]:
        """Every row of a SuiteQL query, following the pages (values are strings)."""
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            response = await self.http.call(
                "POST",
                SUITEQL_PATH,
                operation="suiteql",
                json_body={"q": query},
                params={"limit": str(SUITEQL_PAGE), "offset": str(offset)},
                headers=SUITEQL_HEADERS,
                idempotent=True,
            )
            page: dict[str, Any] = response.json()
            items = page.get("items") or []
            rows.extend(items)
            if not page.get("hasMore") or not items:
                return rows
            offset += len(items)

    async def aclose(self) -> None:
        await self.http.aclose()
