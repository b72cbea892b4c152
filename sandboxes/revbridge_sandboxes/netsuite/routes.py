"""The REST endpoints: record collections and instances, sublists, transforms, SuiteQL.

Writes answer ``204 No Content``; creates, upserts and transforms add ``Location`` with
the URL of the record they made. Reads answer ``application/vnd.oracle.resource+json``
(``type=singular-resource`` or ``type=collection``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.errors import (
    ERROR_CONTENT_TYPE,
    NsError,
    error,
    invalid_content,
    invalid_parameter,
    not_found,
    unknown_record_type,
)
from revbridge_sandboxes.netsuite.paging import QueryError, envelope, page_params, parse_filter
from revbridge_sandboxes.netsuite.payload import PayloadReader
from revbridge_sandboxes.netsuite.records import LINE_KEYS, Records
from revbridge_sandboxes.netsuite.render import RECORD_PATH, Renderer, link
from revbridge_sandboxes.netsuite.schema import INVOICE, SPECS, RecordSpec
from revbridge_sandboxes.netsuite.suiteql import parse
from revbridge_sandboxes.netsuite.tables import ROWS

RESOURCE_TYPE = "application/vnd.oracle.resource+json; type=singular-resource; charset=UTF-8"
COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection; charset=UTF-8"
MAX_BODY = 104 * 1024 * 1024

log = logging.getLogger(__name__)
Handler = Callable[[Request], Awaitable[Response]]


def error_response(err: NsError, account: Account) -> Response:
    headers = {**err.headers, "Content-Type": ERROR_CONTENT_TYPE}
    return Response(err.body(account.options.error_style), err.status, headers=headers)


def json_response(payload: Any, content_type: str = RESOURCE_TYPE) -> Response:
    return Response(json.dumps(payload), 200, headers={"Content-Type": content_type})


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class Endpoints:
    """Request handlers bound to one account."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.state = account.state
        self.records = Records(account)

    def guard(self, handler: Handler) -> Handler:
        """Turn raised errors into NetSuite error responses (never a bare 500)."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except NsError as err:
                return error_response(err, self.account)
            except Exception:
                log.exception("netsuite sandbox: unexpected error on %s", request.url.path)
                failure = error(500, "UNEXPECTED_ERROR", "An unexpected error occurred.")
                return error_response(failure, self.account)

        return endpoint

    # -- record collections -------------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        spec = _spec(request)
        if request.method == "POST":
            reader = _reader(self.account, request)
            body = await _json_body(request)
            with self.state.lock:
                rec = self.records.create(spec.name, reader.read(spec.shape, body))
            return _created(request, spec.name, rec["id"], reader)
        limit, offset = page_params(request.query_params)
        q = request.query_params.get("q")
        keep = _filter(spec, q)
        with self.state.lock:
            matches = [r for r in self.state.all(spec.name) if keep(r.get)]
        matches.sort(key=lambda r: (len(r["id"]), r["id"]))
        renderer = Renderer(self.account, base_url(request))
        page = [
            {"links": [link(renderer.url(spec.name, r["id"]))], "id": r["id"]}
            for r in matches[offset : offset + limit]
        ]
        extra = {"q": q} if q else {}
        url = f"{base_url(request)}{RECORD_PATH}/{spec.name}"
        return json_response(
            envelope(page, len(matches), limit, offset, url, extra), COLLECTION_TYPE
        )

    # -- record instances ---------------------------------------------------------------------

    async def instance(self, request: Request) -> Response:
        spec, key = _spec(request), request.path_params["key"]
        if request.method == "GET":
            expand = request.query_params.get("expandSubResources", "").lower() == "true"
            fields = request.query_params.get("fields")
            wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
            with self.state.lock:
                rec = self.records.get(spec.name, key)
                body = Renderer(self.account, base_url(request)).record(
                    spec.name, rec, expand, wanted
                )
            return json_response(body)
        if request.method == "DELETE":
            with self.state.lock:
                self.records.delete(spec.name, self.records.get(spec.name, key))
            return Response(status_code=204)
        reader = _reader(self.account, request)
        body = await _json_body(request)
        if request.method == "PUT":
            if not key.startswith("eid:") or len(key) == 4:
                raise error(
                    400,
                    "INVALID_REQUEST",
                    "Upsert (PUT) requires an external ID in the "
                    "record URL: .../{recordType}/eid:{externalId}.",
                    url_path=f"{spec.name}/{key}",
                )
            with self.state.lock:
                rec, _created_now = self.records.upsert(
                    spec.name, key[4:], reader.read(spec.shape, body)
                )
            return _created(request, spec.name, rec["id"], reader)
        replace = _replace_param(spec, request.query_params.get("replace"))
        with self.state.lock:
            rec = self.records.get(spec.name, key)
            self.records.update(spec.name, rec, reader.read(spec.shape, body), replace)
        return _no_content(reader)

    async def transform(self, request: Request) -> Response:
        spec, key = _spec(request), request.path_params["key"]
        target = request.path_params["target"]
        reader = _reader(self.account, request)
        raw = await request.body()
        body = _decode(raw) if raw.strip() else {}
        with self.state.lock:
            rec = self.records.get(spec.name, key)
            parsed = reader.read(INVOICE.shape, body) if target == "invoice" else {}
            created = self.records.transform(spec.name, rec, target, parsed)
        return _created(request, target, created["id"], reader)

    async def sublist(self, request: Request) -> Response:
        spec, key = _spec(request), request.path_params["key"]
        name = spec.shape.canonical(request.path_params["sublist"])
        if name is None or name not in spec.shape.sublists:
            raise not_found()
        line_key = request.path_params.get("line")
        renderer = Renderer(self.account, base_url(request))
        with self.state.lock:
            rec = self.records.get(spec.name, key)
            lines = rec.get(name) or []
            url = f"{renderer.url(spec.name, rec['id'])}/{name}"
            key_field = LINE_KEYS.get(name, "line")
            if line_key is None:
                body = renderer.sublist(spec.shape.sublists[name], lines, url, key_field)
                return json_response(body, COLLECTION_TYPE)
            line = next((ln for ln in lines if str(ln.get(key_field)) == line_key), None)
            if line is None:
                raise not_found()
            body = renderer.line(spec.shape.sublists[name], line, f"{url}/{line_key}")
        return json_response(body)

    # -- SuiteQL ------------------------------------------------------------------------------

    async def suiteql(self, request: Request) -> Response:
        prefer = request.headers.get("prefer", "")
        if "transient" not in [p.strip().lower() for p in prefer.split(",")]:
            raise error(
                400,
                "INVALID_HEADER",
                "The request header 'Prefer' with the value "
                "'transient' is required for this request.",
                header="Prefer",
            )
        limit, offset = page_params(request.query_params)
        body = await _json_body(request)
        if not isinstance(body, dict) or set(body) != {"q"} or not isinstance(body["q"], str):
            raise invalid_content()
        query = parse(body["q"])
        with self.state.lock:
            rows = query.run(list(ROWS[query.table](self.account)))
        page = [{"links": [], **row} for row in rows[offset : offset + limit]]
        url = f"{base_url(request)}/services/rest/query/v1/suiteql"
        return json_response(envelope(page, len(rows), limit, offset, url, {}), COLLECTION_TYPE)


def _spec(request: Request) -> RecordSpec:
    name = request.path_params["rtype"]
    spec = SPECS.get(name)
    if spec is None:
        raise unknown_record_type(name)
    return spec


def _reader(account: Account, request: Request) -> PayloadReader:
    mode = request.headers.get("x-netsuite-propertynamevalidation", "Warning").strip().lower()
    return PayloadReader(account.state, strict_names=mode == "error")


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise error(413, "INVALID_CONTENT", "The request body exceeds the maximum size.")
    return _decode(raw)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_content() from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _filter(spec: RecordSpec, q: str | None) -> Callable[[Callable[[str], Any]], bool]:
    if not q:
        return lambda get: True
    try:
        return parse_filter(q, spec.shape.canonical)
    except QueryError as exc:
        raise invalid_parameter(
            "q", f"Invalid search query. Detailed unprocessed description follows. {exc}"
        ) from None


def _replace_param(spec: RecordSpec, value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    names = [spec.shape.canonical(v.strip()) for v in value.split(",") if v.strip()]
    if any(n is None or n not in spec.shape.sublists for n in names):
        raise invalid_parameter("replace", "Invalid value for the query parameter 'replace'.")
    return frozenset(n for n in names if n)


def _warnings(reader: PayloadReader) -> dict[str, str]:
    if not reader.unknown:
        return {}
    text = ", ".join(
        f"299 - \"The field '{path}' does not exist on this record and was ignored.\""
        for path in reader.unknown
    )
    return {"Warning": text}


def _no_content(reader: PayloadReader) -> Response:
    return Response(status_code=204, headers=_warnings(reader))


def _created(request: Request, rtype: str, rid: str, reader: PayloadReader) -> Response:
    headers = {"Location": f"{base_url(request)}{RECORD_PATH}/{rtype}/{rid}", **_warnings(reader)}
    return Response(status_code=204, headers=headers)
