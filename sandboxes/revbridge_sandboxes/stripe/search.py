"""``/v1/<objects>/search``: a subset of Stripe's search query language.

Supported: clauses ``field:'value'`` (exact), ``field~'value'`` (substring, at
least 3 characters), ``field>n`` / ``>=`` / ``<`` / ``<=`` (numbers), ``-field:'v'``
(negation), ``field:null``, ``metadata['key']:'value'``, joined by either ``AND`` or
``OR`` (not both), as Stripe requires. Answers ``{"object": "search_result", ...}``
with ``next_page`` cursors. Unlike Stripe there is no indexing delay.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, everything, expand
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import Int, Str, spec
from revbridge_sandboxes.stripe.tables import Record, Table
from revbridge_sandboxes.stripe.views import view

SPEC = spec({"query": Str(), "limit": Int(lo=1, hi=100), "page": Str()}, required=("query",))

_CLAUSE = re.compile(
    r"""\s*(-?)\s*(metadata\[(?:'[^']*'|"[^"]*")\]|[a-z_][a-z0-9_.]*)\s*"""
    r"""(:|~|>=|<=|>|<)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|null)\s*"""
)
_JOIN = re.compile(r"(AND|OR)\s+")

Test = Callable[[Record], bool]


def run(
    call: Call, table: Table, url: str, fields: Mapping[str, Callable[[Record], Any]] | None = None
) -> dict[str, Any]:
    """Search ``table`` with the call's ``query``; ``fields`` adds derived fields."""
    query = str(call.params["query"])
    test = compile_query(query, fields or {})
    limit = call.params.get("limit") or 10
    offset = _offset(call.params.get("page"))
    hits = list(islice((r for r in everything(table) if test(r)), offset, offset + limit + 1))
    has_more = len(hits) > limit
    data = [view(call.state, r) for r in hits[:limit]]
    body: dict[str, Any] = {
        "object": "search_result",
        "data": data,
        "has_more": has_more,
        "next_page": f"page_{offset + limit}" if has_more else None,
        "url": url,
    }
    return expand(call.state, body, call.expand)


def compile_query(query: str, fields: Mapping[str, Callable[[Record], Any]]) -> Test:
    tests: list[Test] = []
    joins: set[str] = set()
    position = 0
    while True:
        match = _CLAUSE.match(query, position)
        if match is None:
            raise _bad(query, f"could not parse '{query[position:].strip()}'")
        tests.append(_clause(match, fields))
        position = match.end()
        if position == len(query):
            break
        join = _JOIN.match(query, position)
        if join is None:
            raise _bad(query, f"expected AND or OR at '{query[position:].strip()}'")
        joins.add(join.group(1))
        position = join.end()
    if len(joins) > 1:
        raise _bad(query, "AND and OR cannot be combined in one query")
    if joins == {"OR"}:
        return lambda r: any(t(r) for t in tests)
    return lambda r: all(t(r) for t in tests)


def _clause(match: re.Match[str], fields: Mapping[str, Callable[[Record], Any]]) -> Test:
    negate, field, op, raw = match.groups()
    getter = _getter(field, fields)
    if raw == "null":
        value: Any = None
    elif raw[0] in "'\"":
        value = re.sub(r"\\(.)", r"\1", raw[1:-1])
    else:
        value = float(raw)
    if op == "~" and (not isinstance(value, str) or len(value) < 3):
        raise _bad(match.string, "substring matches need at least 3 characters")
    test = _compare(getter, op, value)
    return (lambda r: not test(r)) if negate else test


def _compare(getter: Callable[[Record], Any], op: str, value: Any) -> Test:
    if op == ":":
        return lambda r: _text(getter(r)) == _text(value)
    if op == "~":
        return lambda r: str(value).lower() in str(getter(r) or "").lower()
    limit = float(value) if isinstance(value, int | float) else 0.0
    checks: dict[str, Callable[[float], bool]] = {
        ">": lambda v: v > limit,
        "<": lambda v: v < limit,
        ">=": lambda v: v >= limit,
        "<=": lambda v: v <= limit,
    }
    check = checks[op]
    return lambda r: isinstance(getter(r), int | float) and check(getter(r))


def _getter(field: str, fields: Mapping[str, Callable[[Record], Any]]) -> Callable[[Record], Any]:
    if field.startswith("metadata["):
        key = field[10:-2]
        return lambda r: (r.get("metadata") or {}).get(key)
    if field in fields:
        return fields[field]
    path = field.split(".")

    def get(record: Record) -> Any:
        node: Any = record
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    return get


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _offset(token: Any) -> int:
    if token is None:
        return 0
    text = str(token)
    if not text.startswith("page_") or not text[5:].isdigit():
        raise StripeError.invalid("Invalid page: the page token is malformed.", param="page")
    return int(text[5:])


def _bad(query: str, detail: str) -> StripeError:
    return StripeError.invalid(f"Invalid query: {query!r} ({detail}).", param="query")
