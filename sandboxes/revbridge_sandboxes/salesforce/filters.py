"""Resolving SOQL field paths against the schema and compiling WHERE into predicates.

A :class:`Path` is a chain of reference fields followed by one field; it reads a value
from a record by following the references. Filters compile once per query into plain
Python callables; literal types are checked against field types with Salesforce's
messages. String comparisons are case-insensitive, as in SOQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.dateliterals import date_range
from revbridge_sandboxes.salesforce.schema import TEXT_TYPES, Field, SObjectType
from revbridge_sandboxes.salesforce.soql import (
    BoolOp,
    Condition,
    Expr,
    FieldRef,
    Not,
    Query,
    SoqlError,
    Value,
)
from revbridge_sandboxes.salesforce.state import OrgState, Record
from revbridge_sandboxes.salesforce.values import parse_datetime

Predicate = Callable[[Record], bool]
#: Runs a semi-join subquery: the values of its single selected field.
SemiJoin = Callable[[Query], set[Any]]

_HINT_FIELD = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)
_HINT_REL = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the "
    "custom relationship name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


@dataclass
class Path:
    hops: list[Field]
    field: Field
    owner: SObjectType

    @property
    def key(self) -> tuple[str, ...]:
        return (*(h.relationship_name or "" for h in self.hops), self.field.name)

    def read(self, state: OrgState, record: Record) -> Any:
        current: Record | None = record
        for hop in self.hops:
            target = current.get(hop.name) if current is not None else None
            current = state.get(target) if target is not None else None
            if current is None:
                return None
        return current.get(self.field.name) if current is not None else None


def resolve(state: OrgState, sobject: SObjectType, ref: FieldRef, alias: str | None) -> Path:
    names = list(ref.path)
    prefixes = {sobject.name.lower(), (alias or "").lower()}
    if len(names) > 1 and names[0].lower() in prefixes - set(sobject.relationships):
        names = names[1:]
    hops: list[Field] = []
    current = sobject
    for name in names[:-1]:
        hop = current.relationships.get(name.lower())
        if hop is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{name}' in field path. {_HINT_REL}",
                ref.pos,
            )
        hops.append(hop)
        current = state.types[hop.reference_to[0]]
    f = current.field(names[-1])
    if f is None:
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{names[-1]}' on entity '{current.name}'. {_HINT_FIELD}",
            ref.pos,
        )
    return Path(hops, f, current)


def compile_where(
    state: OrgState, sobject: SObjectType, alias: str | None, expr: Expr, semi: SemiJoin
) -> Predicate:
    if isinstance(expr, BoolOp):
        parts = [compile_where(state, sobject, alias, e, semi) for e in expr.items]
        if expr.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(expr, Not):
        inner = compile_where(state, sobject, alias, expr.item, semi)
        return lambda r: not inner(r)
    return _condition(state, sobject, alias, expr, semi)


def _condition(
    state: OrgState, sobject: SObjectType, alias: str | None, cond: Condition, semi: SemiJoin
) -> Predicate:
    path = resolve(state, sobject, cond.field, alias)
    f = path.field
    if f.type == "textarea" or f.type == "address":
        raise SoqlError(
            "INVALID_FIELD", f"field '{f.name}' can not be filtered in a query call", cond.field.pos
        )
    if cond.op in ("IN", "NOT IN"):
        if isinstance(cond.value, Query):
            wanted = {comparable(f, v) for v in semi(cond.value)}
        else:
            assert isinstance(cond.value, list)
            wanted = {_literal(f, v) for v in cond.value}
        inside = cond.op == "IN"
        return lambda r: (comparable(f, path.read(state, r)) in wanted) == inside
    assert isinstance(cond.value, Value)
    value = cond.value
    if cond.op == "LIKE":
        if f.type not in TEXT_TYPES or value.kind != "string":
            raise SoqlError(
                "INVALID_FIELD", f"invalid operator on field '{f.name}': LIKE", cond.pos
            )
        pattern = _like(value.value)
        return lambda r: (v := path.read(state, r)) is not None and bool(pattern.match(str(v)))
    if value.kind == "dateliteral":
        return _date_condition(state, path, cond.op, value)
    literal = _literal(f, value)
    compare = _COMPARE[cond.op]
    if literal is None:
        if cond.op not in ("=", "!="):
            raise SoqlError(
                "INVALID_FIELD", f"invalid operator on null for field '{f.name}'", cond.pos
            )
        return lambda r: (path.read(state, r) is None) == (cond.op == "=")

    def predicate(r: Record) -> bool:
        got = comparable(f, path.read(state, r))
        if got is None:
            return cond.op == "!="
        return compare(got, literal)

    return predicate


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _date_condition(state: OrgState, path: Path, op: str, value: Value) -> Predicate:
    f = path.field
    name, n = value.value
    span = date_range(name, n) if f.type in ("date", "datetime") else None
    if span is None:
        if f.type not in ("date", "datetime") and date_range(name, n) is not None:
            raise _type_error(f, value.pos)
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{value.text}'", value.pos)
    start, end = span
    tests: dict[str, Callable[[date], bool]] = {
        "=": lambda d: start <= d < end,
        "!=": lambda d: not start <= d < end,
        "<": lambda d: d < start,
        "<=": lambda d: d < end,
        ">": lambda d: d >= end,
        ">=": lambda d: d >= start,
    }
    test = tests[op]

    def predicate(r: Record) -> bool:
        got = path.read(state, r)
        if got is None:
            return op == "!="
        return test(got.date() if isinstance(got, datetime) else got)

    return predicate


def _type_error(f: Field, pos: int) -> SoqlError:
    kind = {"boolean": "boolean", "date": "date", "datetime": "dateTime", "int": "int"}.get(
        f.type, "double"
    )
    return SoqlError(
        "INVALID_FIELD",
        f"value of filter criterion for field '{f.name}' must be of type {kind} and should not "
        "be enclosed in quotes",
        pos,
    )


def _literal(f: Field, value: Value) -> Any:
    """The comparable Python value of a literal compared with field ``f``."""
    if value.kind == "null":
        return None
    return _typed_literal(f, value)


def _typed_literal(f: Field, value: Value) -> Any:
    if f.type in ("id", "reference"):
        rid = ids.to18(value.value) if value.kind == "string" else None
        if rid is None:
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value.value}", value.pos
            )
        return rid
    if f.type in TEXT_TYPES:
        if value.kind != "string":
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{f.name}' must be of type string and should "
                "be enclosed in quotes",
                value.pos,
            )
        return value.value.lower()
    if f.type == "boolean" and value.kind == "boolean":
        return value.value
    if f.type in ("currency", "double", "percent", "int") and value.kind == "number":
        return value.value
    if f.type == "date" and value.kind == "date":
        return date.fromisoformat(value.value)
    if f.type == "datetime" and value.kind == "datetime":
        return parse_datetime(value.value)
    raise _type_error(f, value.pos)


def comparable(f: Field, value: Any) -> Any:
    """``value`` in the form SOQL compares it (text lower-cased, numbers as Decimal)."""
    if isinstance(value, str) and f.type in TEXT_TYPES and f.type != "id":
        return value.lower()
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)
