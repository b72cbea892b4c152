"""Thin typed calls on Stripe's v1 API; answers are Stripe's own dicts.

Requests carry ``Authorization: Bearer sk_…`` and, when the policy pins one, the
``Stripe-Version`` header. Bodies (and list filters) are form-encoded with Stripe's bracket
notation, built here from nested dicts and lists by :func:`form_pairs`: ``metadata[k]=v``,
``items[0][price]=price_…``. Every POST is sent with the ``Idempotency-Key`` its caller
derived from canonical ids; GET and DELETE are idempotent by definition, and Stripe ignores
keys on them, so none is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from revbridge.connectors.http import HttpCaller

Params = Mapping[str, Any]
#: Most ``lookup_keys[]`` one price list call accepts.
LOOKUP_KEYS_PER_CALL = 10
#: Largest page Stripe returns.
PAGE_LIMIT = 100


def form_pairs(params: Params, prefix: str = "") -> list[tuple[str, str]]:
    """Nested params as Stripe form pairs: dict keys in brackets, list items indexed.

    ``None`` values are left out; booleans are ``true``/``false``; Decimals keep their
    exact text.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        pairs.extend(_pairs(name, value))
    return pairs


def _pairs(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return form_pairs(value, name)
    if isinstance(value, list | tuple):
        return [pair for i, item in enumerate(value) for pair in _pairs(f"{name}[{i}]", item)]
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    if isinstance(value, Decimal):
        return [(name, format(value, "f"))]
    return [(name, str(value))]


def _object_path(collection: str, object_id: str) -> str:
    return f"/v1/{collection}/{quote(object_id, safe='')}"


class StripeClient:
    """The Stripe calls the billing adapter needs, on one :class:`HttpCaller`."""

    def __init__(self, http: HttpCaller, api_key: str, api_version: str = "") -> None:
        self.http = http
        self.api_version = api_version
        self._headers = {"Authorization": f"Bearer {api_key}"}
        if api_version:
            self._headers["Stripe-Version"] = api_version

    # -- generic verbs -------------------------------------------------------------------

    async def create(
        self, path: str, params: Params, *, operation: str, idempotency_key: str
    ) -> dict[str, Any]:
        """``POST`` form params under an idempotency key; the object Stripe answers."""
        response = await self.http.call(
            "POST",
            path,
            operation=operation,
            form=form_pairs(params),
            headers=self._headers,
            idempotency_key=idempotency_key,
        )
        body: dict[str, Any] = response.json()
        return body

    async def read(
        self, path: str, *, operation: str, query: Iterable[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """``GET`` with the given query pairs."""
        params: dict[str, list[str]] = {}
        for name, value in query:
            params.setdefault(name, []).append(value)
        response = await self.http.call(
            "GET", path, operation=operation, params=params, headers=self._headers
        )
        body: dict[str, Any] = response.json()
        return body

    # -- resources -----------------------------------------------------------------------

    async def search(self, collection: str, query: str) -> list[dict[str, Any]]:
        """``GET /v1/{collection}/search``: the first page of objects matching ``query``."""
        page = await self.read(
            f"/v1/{collection}/search",
            operation=f"{collection}.search",
            query=[("query", query), ("limit", str(PAGE_LIMIT))],
        )
        return list(page.get("data") or [])

    async def prices_by_lookup_key(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """The prices carrying any of ``keys`` (at most ten keys per call, as Stripe allows)."""
        wanted = sorted(set(keys))
        prices: list[dict[str, Any]] = []
        for start in range(0, len(wanted), LOOKUP_KEYS_PER_CALL):
            chunk = wanted[start : start + LOOKUP_KEYS_PER_CALL]
            page = await self.read(
                "/v1/prices",
                operation="prices.list",
                query=[("limit", str(PAGE_LIMIT)), *(("lookup_keys[]", key) for key in chunk)],
            )
            prices.extend(page.get("data") or [])
        return prices

    async def update(
        self, collection: str, object_id: str, params: Params, *, idempotency_key: str
    ) -> dict[str, Any]:
        """``POST /v1/{collection}/{id}``: set the given fields."""
        return await self.create(
            _object_path(collection, object_id),
            params,
            operation=f"{collection}.update",
            idempotency_key=idempotency_key,
        )

    async def retrieve(self, collection: str, object_id: str) -> dict[str, Any]:
        return await self.read(
            _object_path(collection, object_id), operation=f"{collection}.retrieve"
        )

    async def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        """``DELETE /v1/subscriptions/{id}``: cancel now, without a final invoice."""
        response = await self.http.call(
            "DELETE",
            _object_path("subscriptions", subscription_id),
            operation="subscriptions.cancel",
            headers=self._headers,
            idempotent=True,
        )
        body: dict[str, Any] = response.json()
        return body

    async def every(
        self, path: str, *, operation: str, query: Iterable[tuple[str, str]] = (), most: int = 1000
    ) -> list[dict[str, Any]]:
        """Every object of a list endpoint, page by page (``starting_after``), up to ``most``."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while len(found) < most:
            pairs = [*query, ("limit", str(PAGE_LIMIT))]
            if after is not None:
                pairs.append(("starting_after", after))
            page = await self.read(path, operation=operation, query=pairs)
            data = [item for item in page.get("data") or [] if isinstance(item, dict)]
            found.extend(data)
            if not page.get("has_more") or not data:
                break
            after = str(data[-1]["id"])
        return found[:most]

    async def aclose(self) -> None:
        await self.http.aclose()
