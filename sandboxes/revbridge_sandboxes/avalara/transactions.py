"""Transaction endpoints: create, createoradjust, adjust, get, list, commit, void.

``create`` and ``createoradjust`` answer 201, the others 200, all with a
``TransactionModel`` shaped by ``$include``. Order types (``SalesOrder``, the default)
are estimates: calculated, answered with status ``Temporary`` and zero ids, never stored.

Re-sending a document code:

* ``create`` over a ``Saved`` document replaces it (new version); over a ``Committed``
  one it fails with ``DocumentCodeConflict``; over a ``Cancelled`` one it starts anew.
* ``createoradjust`` creates the document or adjusts it: the current version becomes
  ``Adjusted`` and a new version (new id, ``version`` + 1) takes its place, also when the
  input is identical, as AvaTax adjusts whenever the document exists. There is always
  exactly one current document per company, code and type.
* ``commit`` of a committed document answers it again (harmless to repeat); of a voided
  (``Cancelled``) one it fails with ``TransactionAlreadyCancelled``.
* A ``locked`` document refuses every change with ``CannotModifyLockedTransaction``.

So a caller that lost the answer to ``createoradjust`` with ``commit: true`` can send it
again: the document stays one (a new version of the same code), committed.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from revbridge_sandboxes.avalara import errors, listing
from revbridge_sandboxes.avalara.companies import Company
from revbridge_sandboxes.avalara.engine import calculate
from revbridge_sandboxes.avalara.payloads import (
    DOCUMENT_TYPES,
    TransactionInput,
    is_recorded,
    read_adjustment,
    read_json,
    read_required,
    read_transaction,
)
from revbridge_sandboxes.avalara.render import Header, Include, json_response, transaction_model
from revbridge_sandboxes.avalara.state import AvalaraState, Model

CREATE_OR_ADJUST_DESCRIPTION = "Create or adjust transaction"
_CODE_ESCAPES = {
    "_-ava2f-_": "/",
    "_-ava2b-_": "+",
    "_-ava3f-_": "?",
    "_-ava25-_": "%",
    "_-ava23-_": "#",
}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decode_code(value: str) -> str:
    """Undo AvaTax's URL escapes for ``/ + ? % #`` in company and transaction codes."""
    for escape, char in _CODE_ESCAPES.items():
        value = value.replace(escape, char)
    return value


def _include(request: Request) -> Include:
    return Include.parse(request.query_params.get("$include"))


def _document_type(request: Request) -> str | None:
    value = request.query_params.get("documentType")
    if not value:
        return None
    match = next((t for t in DOCUMENT_TYPES if t.lower() == value.lower()), None)
    if match is None and value.isdigit() and int(value) < len(DOCUMENT_TYPES):
        match = DOCUMENT_TYPES[int(value)]
    if match is None:
        raise errors.invalid_request([errors.model_state_invalid("documentType", value, "Enum")])
    return match


_BARE = Include(lines=False, details=False, summary=False, addresses=False)


def _count_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise errors.invalid_request([errors.model_state_invalid(name, raw, "Int32")])
    return int(raw)


class TransactionApi:
    """The transaction routes over one :class:`AvalaraState`."""

    def __init__(self, state: AvalaraState) -> None:
        self.state = state

    def _record(
        self,
        tx: TransactionInput,
        mode: str,
        reason: str | None = None,
        description: str = "",
    ) -> Model:
        """Calculate ``tx`` and, for invoice types, store it as ``mode`` demands."""
        company = self.state.company(tx.company_code)
        calc = calculate(tx, company)
        code = tx.code or str(uuid.uuid4())
        if not is_recorded(tx.type):
            header = Header("Temporary", 1, "NotAdjusted", "", now(), code)
            return transaction_model(tx, calc, company, header, lambda: 0)
        existing = self.state.existing(company, code, tx.type)
        header = self._header(company, tx, code, existing, mode, reason, description)
        model = transaction_model(tx, calc, company, header, self.state.next_id)
        self.state.save(model, existing)
        return model

    def _header(
        self,
        company: Company,
        tx: TransactionInput,
        code: str,
        existing: Model | None,
        mode: str,
        reason: str | None,
        description: str,
    ) -> Header:
        status = "Committed" if tx.commit else "Saved"
        if existing is None or existing["status"] == "Cancelled":
            if mode == "adjust":
                raise errors.entity_not_found("Document", f"{company.code} - {code}")
            return Header(status, 1, "NotAdjusted", "", now(), code)
        if existing["locked"]:
            raise errors.locked_transaction(existing["id"])
        if mode == "create":
            if existing["status"] == "Committed":
                raise errors.document_code_conflict(company.code, code)
            reason = reason or "NotAdjusted"
        elif mode == "createoradjust":
            reason = reason or "Other"
            description = description or CREATE_OR_ADJUST_DESCRIPTION
        version = int(existing["version"]) + 1
        return Header(status, version, reason or "Other", description, now(), existing["code"])

    # --- routes -----------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        tx = read_transaction(await read_json(request))
        return json_response(_include(request).shape(self._record(tx, "create")), 201)

    async def create_or_adjust(self, request: Request) -> Response:
        body = await read_json(request)
        tx, reason, description = read_adjustment(body, "createTransactionModel")
        model = self._record(tx, "createoradjust", reason, description)
        return json_response(_include(request).shape(model), 201)

    async def adjust(self, request: Request) -> Response:
        company, code = self._path(request)
        body = await read_json(request)
        tx, reason, description = read_adjustment(body, "newTransaction")
        if reason is None:
            raise errors.invalid_request([errors.value_required("adjustmentReason")])
        current = self.state.find(company, code, _document_type(request))
        doc_type = tx.type if is_recorded(tx.type) else str(current["type"])
        tx = dataclasses.replace(tx, code=code, company_code=company.code, type=doc_type)
        model = self._record(tx, "adjust", reason, description)
        return json_response(_include(request).shape(model))

    async def get(self, request: Request) -> Response:
        company, code = self._path(request)
        model = self.state.find(company, code, _document_type(request))
        return json_response(_include(request).shape(model))

    async def list(self, request: Request) -> Response:
        """ListTransactionsByCompany (see :mod:`.listing`)."""
        company = self.state.company(decode_code(request.path_params["companyCode"]))
        params = dict(request.query_params)
        top = min(_count_param(params, "$top", listing.MAX_TOP), listing.MAX_TOP)
        skip = _count_param(params, "$skip", 0)
        found = listing.select(
            self.state.documents(company), params.get("$filter"), listing.today()
        )
        found = listing.order(found, params.get("$orderBy") or params.get("$orderby"))
        include = Include.parse(params["$include"]) if params.get("$include") else _BARE
        body: dict[str, Any] = {
            "@recordsetCount": len(found),
            "value": [include.shape(m) for m in found[skip : skip + top]],
        }
        if skip + top < len(found):
            body["@nextLink"] = listing.next_link(request.url.path, params, top, skip)
        return json_response(body)

    async def get_by_id(self, request: Request) -> Response:
        raw = request.path_params["id"]
        model = self.state.by_id(int(raw)) if raw.isdigit() else None
        if model is None:
            raise errors.entity_not_found("Transaction", raw)
        return json_response(_include(request).shape(model))

    async def commit(self, request: Request) -> Response:
        company, code = self._path(request)
        wanted = read_required(await read_json(request), "commit", "flag")
        model = self._changeable(company, code, request)
        model["status"] = "Committed" if wanted else "Saved"
        model["modifiedDate"] = now()
        return json_response(_include(request).shape(model))

    async def void(self, request: Request) -> Response:
        company, code = self._path(request)
        read_required(await read_json(request), "code", "choice")
        model = self._changeable(company, code, request)
        model["status"] = "Cancelled"
        model["modifiedDate"] = now()
        return json_response(_include(request).shape(model))

    async def lock(self, request: Request) -> Response:
        """Sandbox-only ``POST /_sandbox/transactions/lock``: mark a document reported."""
        body = await read_json(request)
        if not isinstance(body, dict):
            raise errors.model_required()
        company = self.state.company(str(body.get("companyCode") or ""))
        doc_type = body.get("documentType")
        if doc_type is not None and doc_type not in DOCUMENT_TYPES:
            raise errors.invalid_request(
                [errors.model_state_invalid("documentType", doc_type, "Enum")]
            )
        model = self.state.find(company, str(body.get("code") or ""), doc_type)
        model["locked"] = bool(body.get("locked", True))
        return json_response({"id": model["id"], "code": model["code"], "locked": model["locked"]})

    def _path(self, request: Request) -> tuple[Company, str]:
        company = self.state.company(decode_code(request.path_params["companyCode"]))
        return company, decode_code(request.path_params["transactionCode"])

    def _changeable(self, company: Company, code: str, request: Request) -> dict[str, Any]:
        model = self.state.find(company, code, _document_type(request))
        if model["locked"]:
            raise errors.locked_transaction(model["id"])
        if model["status"] == "Cancelled":
            raise errors.already_cancelled(code)
        return model
