"""Running SOQL: matching, ordering, rendering rows, aggregates and paginated cursors.

Rows are rendered when the query runs and kept behind a query locator, so following
``nextRecordsUrl`` pages through a stable result like Salesforce's server-side cursor.
Pages hold 2000 rows unless ``Sforce-Query-Options: batchSize=N`` (200..2000) asks for
fewer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.errors import SalesforceError, bad_request
from revbridge_sandboxes.salesforce.filters import (
    Path,
    Predicate,
    comparable,
    compile_where,
    resolve,
)
from revbridge_sandboxes.salesforce.records import attributes, field_json
from revbridge_sandboxes.salesforce.schema import NUMBER_TYPES, SObjectType
from revbridge_sandboxes.salesforce.soql import (
    Aggregate,
    Condition,
    FieldRef,
    FieldsMacro,
    OrderItem,
    Query,
    SoqlError,
    SubQuery,
    Value,
    parse,
)
from revbridge_sandboxes.salesforce.state import OrgState, Record
from revbridge_sandboxes.salesforce.values import to_json

DEFAULT_BATCH = 2000
MAX_CURSORS = 500
_HINT_OBJECT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)


@dataclass
class Result:
    total: int
    rows: list[dict[str, Any]]


@dataclass
class _Plan:
    sobject: SObjectType
    query: Query
    paths: list[Path]
    children: list[tuple[str, _Plan, str]]
    where: Predicate | None


class QueryEngine:
    """Runs SOQL against one org's state."""

    def __init__(self, state: OrgState) -> None:
        self.state = state

    def run(self, text: str, version: str, include_deleted: bool = False) -> Result:
        try:
            query = parse(text)
            sobject = self._object(query)
            if any(isinstance(item, Aggregate) for item in query.select):
                return self._aggregate(sobject, query, include_deleted)
            plan = self._plan(sobject, query)
            records = self._match(plan, self._candidates(plan, include_deleted))
            return Result(len(records), [self._render(plan, r, version) for r in records])
        except SoqlError as exc:
            raise exc.to_salesforce(text) from None

    def _object(self, query: Query) -> SObjectType:
        sobject = self.state.type_named(query.sobject)
        if sobject is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{query.sobject}' is not supported. {_HINT_OBJECT}",
                query.sobject_pos,
            )
        return sobject

    def _plan(self, sobject: SObjectType, query: Query) -> _Plan:
        paths: list[Path] = []
        children: list[tuple[str, _Plan, str]] = []
        for item in query.select:
            if isinstance(item, FieldRef):
                paths.append(resolve(self.state, sobject, item, query.alias))
            elif isinstance(item, FieldsMacro):
                paths += self._macro(sobject, item, query)
            elif isinstance(item, SubQuery):
                children.append(self._child_plan(sobject, item))
            else:
                raise SoqlError("MALFORMED_QUERY", "Aggregate functions need GROUP BY", item.pos)
        where = None
        if query.where is not None:
            where = compile_where(self.state, sobject, query.alias, query.where, self._semi_join)
        unique = list({p.key: p for p in paths}.values())
        return _Plan(sobject, query, unique, children, where)

    def _macro(self, sobject: SObjectType, item: FieldsMacro, query: Query) -> list[Path]:
        if item.kind != "STANDARD" and (query.limit is None or query.limit > 200):
            raise SoqlError(
                "MALFORMED_QUERY",
                "The SOQL FIELDS function must have a LIMIT of at most 200",
                item.pos,
            )
        return [
            Path([], f, sobject)
            for f in sobject.fields.values()
            if item.kind == "ALL" or f.custom == (item.kind == "CUSTOM")
        ]

    def _child_plan(self, parent: SObjectType, item: SubQuery) -> tuple[str, _Plan, str]:
        rel = parent.child(item.query.sobject)
        if rel is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"Didn't understand relationship '{item.query.sobject}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to append the "
                "'__r' after the custom relationship name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
                item.query.sobject_pos,
            )
        return rel.name, self._plan(self.state.types[rel.child], item.query), rel.field

    def _semi_join(self, query: Query) -> set[Any]:
        sobject = self._object(query)
        fields = [i for i in query.select if isinstance(i, FieldRef)]
        if len(fields) != 1 or len(query.select) != 1:
            raise SoqlError("MALFORMED_QUERY", "Semi join sub-selects must select one field", 0)
        path = resolve(self.state, sobject, fields[0], query.alias)
        plan = self._plan(sobject, query)
        return {path.read(self.state, r) for r in self._match(plan, self._candidates(plan, False))}

    def _candidates(self, plan: _Plan, include_deleted: bool) -> list[Record]:
        where = plan.query.where
        if isinstance(where, Condition) and where.field.path == ["Id"] and where.op in ("=", "IN"):
            values = [where.value] if isinstance(where.value, Value) else where.value
            if isinstance(values, list):
                wanted = {ids.to18(v.value) for v in values if v.kind == "string"}
                found = [self.state.records.get(i) for i in sorted(i for i in wanted if i)]
                live = [r for r in found if r is not None and r["_type"] == plan.sobject.name]
                return live + self._binned(plan.sobject, include_deleted)
        live = list(self.state.by_type[plan.sobject.name].values())
        return live + self._binned(plan.sobject, include_deleted)

    def _binned(self, sobject: SObjectType, include_deleted: bool) -> list[Record]:
        if not include_deleted:
            return []
        return [r for r, _ in self.state.deleted.values() if r["_type"] == sobject.name]

    def _match(self, plan: _Plan, records: list[Record]) -> list[Record]:
        where = plan.where
        matched = records if where is None else [r for r in records if where(r)]
        for item in reversed(plan.query.order):
            matched = self._sorted(plan, matched, item)
        start = plan.query.offset or 0
        end = None if plan.query.limit is None else start + plan.query.limit
        return matched[start:end]

    def _sorted(self, plan: _Plan, records: list[Record], item: OrderItem) -> list[Record]:
        path = resolve(self.state, plan.sobject, item.field, plan.query.alias)
        nulls_first = not item.nulls_last
        none_flag = (0 if nulls_first else 2) if not item.descending else (2 if nulls_first else 0)

        def key(record: Record) -> tuple[int, Any]:
            value = comparable(path.field, path.read(self.state, record))
            return (none_flag, None) if value is None else (1, value)

        return sorted(records, key=key, reverse=item.descending)

    def _render(self, plan: _Plan, record: Record, version: str) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": attributes(version, plan.sobject.name, record["Id"])}
        for path in plan.paths:
            self._put(out, record, path, version)
        for name, child_plan, field_name in plan.children:
            kids = [
                r
                for cid in sorted(self.state.children_of(record["Id"]))
                if (r := self.state.records.get(cid)) is not None
                and r["_type"] == child_plan.sobject.name
                and r.get(field_name) == record["Id"]
            ]
            rows = [self._render(child_plan, r, version) for r in self._match(child_plan, kids)]
            out[name] = {"totalSize": len(rows), "done": True, "records": rows} if rows else None
        return out

    def _put(self, out: dict[str, Any], record: Record, path: Path, version: str) -> None:
        target, current = out, record
        for hop in path.hops:
            rel = hop.relationship_name or hop.name
            next_id = current.get(hop.name)
            next_record = self.state.records.get(next_id) if next_id else None
            if rel not in target:
                target[rel] = (
                    None
                    if next_record is None
                    else {
                        "attributes": attributes(version, next_record["_type"], next_record["Id"])
                    }
                )
            if target[rel] is None or next_record is None:
                return
            target, current = target[rel], next_record
        target[path.field.name] = field_json(
            self.state.types[current["_type"]], current, path.field
        )

    def _aggregate(self, sobject: SObjectType, query: Query, include_deleted: bool) -> Result:
        aggregates = [i for i in query.select if isinstance(i, Aggregate)]
        grouped = [resolve(self.state, sobject, g, query.alias) for g in query.group_by]
        plain = [i for i in query.select if not isinstance(i, Aggregate)]
        group_keys = {p.key for p in grouped}
        for item in plain:
            if (
                not isinstance(item, FieldRef)
                or resolve(self.state, sobject, item, query.alias).key not in group_keys
            ):
                raise SoqlError(
                    "MALFORMED_QUERY",
                    "Field must be grouped or aggregated",
                    getattr(item, "pos", 0),
                )
        where = None
        if query.where is not None:
            where = compile_where(self.state, sobject, query.alias, query.where, self._semi_join)
        plan = _Plan(
            sobject, Query(query.select, query.sobject, 0, query.alias, query.where), [], [], where
        )
        records = self._match(plan, self._candidates(plan, include_deleted))
        if len(aggregates) == 1 and aggregates[0].arg is None and not plain and not grouped:
            return Result(len(records[query.offset or 0 :][: query.limit]), [])
        groups: dict[tuple[Any, ...], list[Record]] = {}
        for r in records:
            groups.setdefault(
                tuple(comparable(p.field, p.read(self.state, r)) for p in grouped), []
            ).append(r)
        if not grouped:
            groups = {(): records}
        rows = [
            self._aggregate_row(sobject, query, grouped, aggregates, members)
            for members in groups.values()
        ]
        return Result(len(rows), rows)

    def _aggregate_row(
        self,
        sobject: SObjectType,
        query: Query,
        grouped: list[Path],
        aggregates: list[Aggregate],
        members: list[Record],
    ) -> dict[str, Any]:
        row: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for p in grouped:
            row[p.field.name] = (
                to_json(p.field, p.read(self.state, members[0])) if members else None
            )
        unnamed = 0
        for agg in aggregates:
            name = agg.alias
            if name is None:
                name, unnamed = f"expr{unnamed}", unnamed + 1
            if agg.arg is None:
                row[name] = len(members)
                continue
            path = resolve(self.state, sobject, agg.arg, query.alias)
            if agg.func in ("SUM", "AVG") and path.field.type not in NUMBER_TYPES:
                raise SoqlError(
                    "INVALID_FIELD",
                    f"field {path.field.name} does not support aggregate operator {agg.func}",
                    agg.pos,
                )
            values = [v for r in members if (v := path.read(self.state, r)) is not None]
            row[name] = _reduce(agg.func, path, values)
        return row


def _reduce(func: str, path: Path, values: list[Any]) -> Any:
    if func == "COUNT":
        return len(values)
    if func == "COUNT_DISTINCT":
        return len({comparable(path.field, v) for v in values})
    if not values:
        return None
    if func in ("MIN", "MAX"):
        pick = min if func == "MIN" else max
        return to_json(path.field, pick(values, key=lambda v: comparable(path.field, v)))
    total = sum((Decimal(v) for v in values), Decimal(0))
    return total if func == "SUM" else total / len(values)


class Cursors:
    """Query locators: rendered rows waiting to be paged through."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, tuple[Result, int, str]] = OrderedDict()

    def clear(self) -> None:
        self._open.clear()

    def first_page(self, result: Result, batch: int, version: str) -> dict[str, Any]:
        if len(result.rows) <= batch:
            return _page(result, 0, batch, None, version)
        locator = ids.random_id(ids.QUERY_LOCATOR_PREFIX)
        self._open[locator] = (result, batch, version)
        while len(self._open) > MAX_CURSORS:
            self._open.popitem(last=False)
        return _page(result, 0, batch, locator, version)

    def next_page(self, token: str, batch: int | None) -> dict[str, Any]:
        locator, _, offset = token.rpartition("-")
        entry = self._open.get(locator)
        if entry is None or not offset.isdigit() or int(offset) > len(entry[0].rows):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        result, default_batch, version = entry
        self._open.move_to_end(locator)
        return _page(result, int(offset), batch or default_batch, locator, version)


def _page(
    result: Result, start: int, batch: int, locator: str | None, version: str
) -> dict[str, Any]:
    end = start + batch
    done = end >= len(result.rows)
    out: dict[str, Any] = {"totalSize": result.total, "done": done}
    if not done:
        out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    out["records"] = result.rows[start:end]
    return out


def batch_size(header: str | None) -> int | None:
    """The page size a ``Sforce-Query-Options`` header asks for (clamped to 200..2000)."""
    if not header:
        return None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize":
            if not value.strip().isdigit():
                raise bad_request("INVALID_BATCH_SIZE", f"Invalid batch size: {value.strip()}")
            return max(200, min(DEFAULT_BATCH, int(value)))
    return None
