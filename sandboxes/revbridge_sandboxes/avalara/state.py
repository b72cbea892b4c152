"""Recorded transactions, in memory: the current version of each document and its history.

A document is identified by company, ``code`` (case-insensitive) and document type.
Adjusting one stores a new version (new id, ``version`` + 1) and keeps the old one, with
status ``Adjusted``, in the history; every version stays reachable by id. All methods
are synchronous and are called from one event loop, so each one is atomic.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from revbridge_sandboxes.avalara import errors
from revbridge_sandboxes.avalara.companies import Company
from revbridge_sandboxes.avalara.render import dumps

FIRST_ID = 85000000001
Model = dict[str, Any]
Key = tuple[int, str, str]


class AvalaraState:
    """The store behind the emulator; ``snapshot``/``restore``/``reset`` for the sandbox."""

    def __init__(self, companies: tuple[Company, ...]) -> None:
        self.companies = companies
        self._company_by_code = {c.code.casefold(): c for c in companies}
        self._company_by_id = {c.id: c for c in companies}
        self._default = next((c for c in companies if c.is_default), companies[0])
        self.reset()

    def reset(self) -> None:
        self._current: dict[Key, Model] = {}
        self._types: dict[tuple[int, str], dict[str, Key]] = {}
        self._by_id: dict[int, Model] = {}
        self._history: list[Model] = []
        self._next_id = FIRST_ID

    def next_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # --- companies --------------------------------------------------------------------

    def company(self, code: str) -> Company:
        """The company with ``code``; the account's default company when ``code`` is empty."""
        if not code:
            return self._default
        company = self._company_by_code.get(code.casefold())
        if company is None:
            raise errors.entity_not_found("Company", code)
        return company

    def company_by_id(self, ident: str) -> Company:
        company = self._company_by_id.get(int(ident)) if ident.isdigit() else None
        if company is None:
            raise errors.entity_not_found("Company", ident)
        return company

    # --- transactions -----------------------------------------------------------------

    def existing(self, company: Company, code: str, doc_type: str) -> Model | None:
        return self._current.get((company.id, code.casefold(), doc_type))

    def find(self, company: Company, code: str, doc_type: str | None) -> Model:
        """The current document ``code``; SalesInvoice first when the type is not given."""
        if doc_type is not None:
            found = self.existing(company, code, doc_type)
        else:
            types = self._types.get((company.id, code.casefold()), {})
            key = types.get("SalesInvoice")
            if key is None and len(types) > 1:
                raise errors.document_type_required(company.code, code)
            if key is None and types:
                key = next(iter(types.values()))
            found = self._current.get(key) if key is not None else None
        if found is None:
            raise errors.entity_not_found("Document", f"{company.code} - {code}")
        return found

    def documents(self, company: Company) -> list[Model]:
        """The company's current documents (not the adjusted versions they replaced)."""
        return [m for m in self._current.values() if m["companyId"] == company.id]

    def by_id(self, transaction_id: int) -> Model | None:
        return self._by_id.get(transaction_id)

    def save(self, model: Model, replaces: Model | None) -> None:
        """Make ``model`` the current version; ``replaces`` moves to the history."""
        if replaces is not None:
            if replaces["status"] != "Cancelled":
                replaces["status"] = "Adjusted"
            self._history.append(replaces)
        self._index(model)

    def _index(self, model: Model) -> None:
        key: Key = (model["companyId"], str(model["code"]).casefold(), model["type"])
        self._current[key] = model
        self._types.setdefault(key[:2], {})[key[2]] = key
        self._by_id[model["id"]] = model

    # --- sandbox state ----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        data = {
            "companies": [c.code for c in self.companies],
            "transactions": list(self._current.values()),
            "history": self._history,
            "counts": {"transactions": len(self._current), "history": len(self._history)},
            "next_id": self._next_id,
        }
        result: dict[str, Any] = json.loads(dumps(data))
        return result

    def restore(self, data: dict[str, Any]) -> None:
        data = json.loads(json.dumps(data), parse_float=Decimal)
        self.reset()
        for model in data.get("history", []):
            self._history.append(model)
            self._by_id[model["id"]] = model
        for model in data.get("transactions", []):
            self._index(model)
        self._next_id = max(int(data.get("next_id", FIRST_ID)), FIRST_ID)
