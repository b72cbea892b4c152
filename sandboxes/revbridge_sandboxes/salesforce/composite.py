"""sObject Collections: create, update, upsert, read and delete up to 200 records a call.

A well-formed call answers 200 with one result per record, in order; failures are item
errors (``statusCode``). With ``allOrNone`` one failure rolls back the whole call and the
records that would have succeeded report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``. One call
is one transaction: its change events share a ``transactionKey``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.api import Call, Handler, json_response
from revbridge_sandboxes.salesforce.dml import AmbiguousExternalId, Transaction
from revbridge_sandboxes.salesforce.errors import SalesforceError, bad_request, json_parser_error
from revbridge_sandboxes.salesforce.records import render, select_fields
from revbridge_sandboxes.salesforce.schema import SObjectType
from revbridge_sandboxes.salesforce.sobjects import sobject_of

MAX_WRITE = 200
MAX_READ = 2000
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}

Item = Callable[[Transaction, dict[str, Any]], dict[str, Any]]


def _too_many(limit: int) -> SalesforceError:
    return bad_request(
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call",
    )


async def _records(call: Call) -> tuple[list[Any], bool]:
    body = await call.body()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise json_parser_error(
            "Cannot deserialize instance of SObjectCollectionRequest: expected "
            '{"allOrNone": boolean, "records": [...]}'
        )
    if len(body["records"]) > MAX_WRITE:
        raise _too_many(MAX_WRITE)
    return body["records"], body.get("allOrNone") is True


def _run(call: Call, items: list[Any], all_or_none: bool, item: Item) -> Response:
    txn = call.org.transaction()
    results: list[dict[str, Any]] = []
    for raw in items:
        point = txn.savepoint()
        try:
            if not isinstance(raw, dict):
                raise bad_request("INVALID_TYPE", "Must send a concrete entity type.")
            results.append(item(txn, raw))
        except SalesforceError as exc:
            txn.rollback(point)
            error = exc.item_error()
            if exc.error_code == "NOT_FOUND":
                error = {**error, "statusCode": "INVALID_CROSS_REFERENCE_KEY"}
                error["message"] = "invalid cross reference id"
            failed: dict[str, Any] = {"success": False, "errors": [error]}
            if isinstance(raw, dict) and isinstance(raw.get("id"), str) and ids.to18(raw["id"]):
                failed = {"id": ids.to18(raw["id"]), **failed}
            results.append(failed)
    if all_or_none and any(not r["success"] for r in results):
        return json_response(
            [
                r
                if not r["success"]
                else {"id": r["id"], "success": False, "errors": [_ROLLED_BACK]}
                for r in results
            ]
        )
    call.commit(txn)
    return json_response(results)


def _typed(call: Call, raw: dict[str, Any]) -> tuple[SObjectType, dict[str, Any]]:
    attributes = raw.get("attributes")
    name = attributes.get("type") if isinstance(attributes, dict) else None
    sobject = call.org.state.type_named(name) if isinstance(name, str) else None
    if sobject is None:
        raise bad_request("INVALID_TYPE", "Must send a concrete entity type.")
    return sobject, {k: v for k, v in raw.items() if k != "attributes"}


def _pop_id(body: dict[str, Any]) -> Any:
    keys = [k for k in body if k.lower() == "id"]
    return body.pop(keys[0]) if keys else None


async def create(call: Call) -> Response:
    records, all_or_none = await _records(call)

    def item(txn: Transaction, raw: dict[str, Any]) -> dict[str, Any]:
        sobject, body = _typed(call, raw)
        if _pop_id(body) is not None:
            raise bad_request("INVALID_FIELD", "cannot specify Id in an insert call")
        return {"id": txn.create(sobject, body), "success": True, "errors": []}

    return _run(call, records, all_or_none, item)


async def update(call: Call) -> Response:
    records, all_or_none = await _records(call)

    def item(txn: Transaction, raw: dict[str, Any]) -> dict[str, Any]:
        sobject, body = _typed(call, raw)
        given = _pop_id(body)
        if not given:
            raise bad_request("MISSING_ARGUMENT", "Id not specified in an update call")
        rid = ids.to18(str(given))
        if rid is None:
            raise bad_request("MALFORMED_ID", f"malformed id {given}")
        if rid[:3] != sobject.key_prefix:
            raise bad_request(
                "MALFORMED_ID", f"{sobject.label} ID: id value of incorrect type: {given}", ["Id"]
            )
        if txn.get(rid) is None and rid not in call.org.state.deleted:
            raise bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        txn.update(sobject, rid, body)
        return {"id": rid, "success": True, "errors": []}

    return _run(call, records, all_or_none, item)


async def upsert(call: Call) -> Response:
    sobject = sobject_of(call)
    f = sobject.field(call.request.path_params["field"])
    if f is None or not (f.external_id or f.name == "Id"):
        raise bad_request(
            "INVALID_FIELD",
            f"Field name provided, {call.request.path_params['field']} is not an External ID or "
            f"indexed field for {sobject.name}",
        )
    records, all_or_none = await _records(call)

    def item(txn: Transaction, raw: dict[str, Any]) -> dict[str, Any]:
        typed, body = _typed(call, raw)
        if typed is not sobject:
            raise bad_request("INVALID_TYPE", f"This upsert only takes {sobject.name} records", [])
        keys = [k for k in body if k.lower() == f.name.lower()]
        value = body.pop(keys[0]) if keys else None
        if value in (None, ""):
            raise bad_request("MISSING_ARGUMENT", f"{f.name} not specified", [f.name])
        try:
            rid, created = txn.upsert(sobject, f, str(value), body, update_only=False)
        except AmbiguousExternalId as exc:
            raise bad_request(exc.error_code, exc.message, [f.name]) from None
        return {"id": rid, "success": True, "errors": [], "created": created}

    return _run(call, records, all_or_none, item)


async def delete(call: Call) -> Response:
    given = [i for i in (call.param("ids") or "").split(",") if i.strip()]
    if not given:
        raise bad_request("MISSING_ARGUMENT", "Missing required parameter: ids")
    if len(given) > MAX_WRITE:
        raise _too_many(MAX_WRITE)
    all_or_none = (call.param("allOrNone") or "").lower() == "true"

    def item(txn: Transaction, raw: dict[str, Any]) -> dict[str, Any]:
        rid = ids.to18(raw["id"].strip())
        if rid is None:
            raise bad_request("MALFORMED_ID", f"malformed id {raw['id'].strip()}")
        txn.delete(rid)
        return {"id": rid, "success": True, "errors": []}

    return _run(call, [{"id": i} for i in given], all_or_none, item)


async def retrieve(call: Call) -> Response:
    sobject = sobject_of(call)
    if call.request.method == "POST":
        body = await call.body()
        wanted = body.get("ids") if isinstance(body, dict) else None
        names = body.get("fields") if isinstance(body, dict) else None
        fields_param = ",".join(names) if isinstance(names, list) else None
    else:
        wanted = [i for i in (call.param("ids") or "").split(",") if i.strip()]
        fields_param = call.param("fields")
    if not isinstance(wanted, list) or not wanted:
        raise bad_request("MISSING_ARGUMENT", "Missing required parameter: ids")
    if not fields_param:
        raise bad_request("MISSING_ARGUMENT", "Missing required parameter: fields")
    if len(wanted) > MAX_READ:
        raise _too_many(MAX_READ)
    fields = select_fields(sobject, fields_param)
    out: list[dict[str, Any] | None] = []
    for given in wanted:
        rid = ids.to18(str(given).strip())
        if rid is None:
            raise bad_request("MALFORMED_ID", f"malformed id {given}")
        record = call.org.state.get(rid)
        ok = record is not None and record["_type"] == sobject.name
        out.append(render(sobject, record, call.version, fields) if ok and record else None)
    return json_response(out)


ROUTES: list[tuple[str, dict[str, Handler], int]] = [
    ("/composite/sobjects", {"POST": create, "PATCH": update, "DELETE": delete}, 42),
    ("/composite/sobjects/{type}", {"GET": retrieve, "POST": retrieve}, 42),
    ("/composite/sobjects/{type}/{field}", {"PATCH": upsert}, 46),
]
