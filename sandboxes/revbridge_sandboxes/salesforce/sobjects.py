"""sObject resources: describe, create, read, update, delete, and external-id read/upsert.

Paths are relative to ``/services/data/vNN.N``. External-id values in the path are read
from the raw URL and decoded like a form value (``+`` is a space), matching clients that
quote them with ``quote_plus``.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote_plus

from starlette.responses import Response

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.api import Call, Handler, json_response
from revbridge_sandboxes.salesforce.dml import AmbiguousExternalId
from revbridge_sandboxes.salesforce.errors import bad_request, not_found
from revbridge_sandboxes.salesforce.records import record_url, render, select_fields
from revbridge_sandboxes.salesforce.schema import Field, SObjectType
from revbridge_sandboxes.salesforce.values import format_datetime, now, parse_datetime


def sobject_of(call: Call) -> SObjectType:
    sobject = call.org.state.type_named(call.request.path_params["type"])
    if sobject is None:
        raise not_found()
    return sobject


def record_id(sobject: SObjectType, segment: str) -> str:
    """The 18-character id in a path segment; Salesforce's errors when it is not one."""
    rid = ids.to18(segment)
    if rid is None:
        raise not_found(
            f"Provided external ID field does not exist or is not accessible: {segment}"
        )
    if rid[:3] != sobject.key_prefix:
        raise bad_request(
            "MALFORMED_ID", f"{sobject.label} ID: id value of incorrect type: {segment}", ["Id"]
        )
    return rid


def _raw_tail(call: Call, count: int) -> list[str]:
    raw: bytes = call.request.scope.get("raw_path") or call.request.url.path.encode()
    parts = raw.decode("latin-1").rstrip("/").split("/")
    return [unquote_plus(p, encoding="utf-8", errors="replace") for p in parts[-count:]]


async def describe_global(call: Call) -> Response:
    return json_response(
        {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [t.describe(call.version, full=False) for t in call.org.types.values()],
        }
    )


async def sobject_info(call: Call) -> Response:
    sobject = sobject_of(call)
    return json_response(
        {"objectDescribe": sobject.describe(call.version, full=False), "recentItems": []}
    )


async def describe(call: Call) -> Response:
    return json_response(sobject_of(call).describe(call.version, full=True))


async def create(call: Call) -> Response:
    sobject = sobject_of(call)
    body = await call.object_body(sobject.name)
    txn = call.org.transaction()
    rid = txn.create(sobject, body)
    call.commit(txn)
    return json_response({"id": rid, "success": True, "errors": []}, 201)


async def read(call: Call) -> Response:
    sobject = sobject_of(call)
    rid = record_id(sobject, call.request.path_params["id"])
    record = call.org.state.get(rid)
    if record is None or record["_type"] != sobject.name:
        raise not_found()
    fields = select_fields(sobject, call.param("fields")) if call.param("fields") else None
    return json_response(render(sobject, record, call.version, fields))


async def update(call: Call) -> Response:
    sobject = sobject_of(call)
    rid = record_id(sobject, call.request.path_params["id"])
    body = await call.object_body(sobject.name)
    txn = call.org.transaction()
    txn.update(sobject, rid, body)
    call.commit(txn)
    return Response(status_code=204)


async def delete(call: Call) -> Response:
    sobject = sobject_of(call)
    rid = record_id(sobject, call.request.path_params["id"])
    txn = call.org.transaction()
    txn.require(sobject, rid)
    txn.delete(rid)
    call.commit(txn)
    return Response(status_code=204)


async def create_by_id_path(call: Call) -> Response:
    """``POST /sobjects/{Type}/Id``: a create through the upsert resource (v37+)."""
    if call.request.path_params["id"].lower() != "id":
        raise not_found()
    return await create(call)


def _external_field(sobject: SObjectType, name: str) -> Field:
    f = sobject.field(name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise not_found(f"Provided external ID field does not exist or is not accessible: {name}")
    return f


def _ambiguous(call: Call, sobject: SObjectType, matches: list[str]) -> Response:
    return json_response([record_url(call.version, sobject.name, m) for m in matches], 300)


async def read_external(call: Call) -> Response:
    sobject = sobject_of(call)
    name, value = _raw_tail(call, 2)
    f = _external_field(sobject, name)
    matches = call.org.transaction().find_external(sobject, f.name, value)
    if len(matches) > 1:
        return _ambiguous(call, sobject, matches)
    if not matches:
        raise not_found()
    record = call.org.state.get(matches[0])
    assert record is not None
    fields = select_fields(sobject, call.param("fields")) if call.param("fields") else None
    return json_response(render(sobject, record, call.version, fields))


async def upsert(call: Call) -> Response:
    sobject = sobject_of(call)
    name, value = _raw_tail(call, 2)
    f = _external_field(sobject, name)
    body = await call.object_body(sobject.name)
    update_only = (call.param("updateOnly") or "").lower() == "true"
    txn = call.org.transaction()
    try:
        rid, created = txn.upsert(sobject, f, value, body, update_only)
    except AmbiguousExternalId as exc:
        return _ambiguous(call, sobject, exc.matches)
    call.commit(txn)
    if call.major < 46:
        if created:
            return json_response({"id": rid, "success": True, "errors": []}, 201)
        return Response(status_code=204)
    result = {"id": rid, "success": True, "errors": [], "created": created}
    return json_response(result, 201 if created else 200)


async def delete_external(call: Call) -> Response:
    sobject = sobject_of(call)
    name, value = _raw_tail(call, 2)
    f = _external_field(sobject, name)
    txn = call.org.transaction()
    matches = txn.find_external(sobject, f.name, value)
    if len(matches) > 1:
        return _ambiguous(call, sobject, matches)
    if not matches:
        raise not_found()
    txn.delete(matches[0])
    call.commit(txn)
    return Response(status_code=204)


def _window(call: Call) -> tuple[datetime, datetime]:
    """The ``start``/``end`` parameters of the updated and deleted resources."""
    bounds = []
    for name in ("start", "end"):
        given = call.param(name)
        if not given:
            raise bad_request("MISSING_ARGUMENT", f"Missing required parameter: {name}")
        moment = parse_datetime(given)
        if moment is None:
            raise bad_request("INVALID_DATE_FORMAT", f"Invalid date format for {name}: {given}")
        bounds.append(moment)
    if bounds[0] > bounds[1]:
        raise bad_request(
            "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate"
        )
    return bounds[0], bounds[1]


async def updated(call: Call) -> Response:
    """``GET /sobjects/{Type}/updated?start=&end=``: ids changed in the window."""
    sobject = sobject_of(call)
    start, end = _window(call)
    found = [
        r["Id"]
        for r in call.org.state.by_type[sobject.name].values()
        if start <= r["SystemModstamp"] < end
    ]
    return json_response({"ids": found, "latestDateCovered": format_datetime(min(end, now()))})


async def deleted(call: Call) -> Response:
    """``GET /sobjects/{Type}/deleted?start=&end=``: records deleted in the window."""
    sobject = sobject_of(call)
    start, end = _window(call)
    rows = [
        {"id": r["Id"], "deletedDate": format_datetime(r["SystemModstamp"])}
        for r, _ in call.org.state.deleted.values()
        if r["_type"] == sobject.name and start <= r["SystemModstamp"] < end
    ]
    earliest = min((r["SystemModstamp"] for r, _ in call.org.state.deleted.values()), default=start)
    return json_response(
        {
            "deletedRecords": rows,
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(min(end, now())),
        }
    )


ROUTES: list[tuple[str, dict[str, Handler]]] = [
    ("/sobjects", {"GET": describe_global}),
    ("/sobjects/{type}", {"GET": sobject_info, "POST": create}),
    ("/sobjects/{type}/describe", {"GET": describe}),
    ("/sobjects/{type}/updated", {"GET": updated}),
    ("/sobjects/{type}/deleted", {"GET": deleted}),
    (
        "/sobjects/{type}/{id}",
        {"GET": read, "PATCH": update, "DELETE": delete, "POST": create_by_id_path},
    ),
    (
        "/sobjects/{type}/{field}/{value:path}",
        {"GET": read_external, "PATCH": upsert, "DELETE": delete_external},
    ),
]
