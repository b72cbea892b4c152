"""Collection paging (``limit``/``offset``, the envelope and its links) and ``?q=`` filters.

Record lists and SuiteQL answer ``{"links", "count", "hasMore", "items", "offset",
"totalResults"}`` with ``previous``/``first``/``next``/``last``/``self`` links. A page
holds at most 1,000 rows. Record lists filter with ``q``: conditions ``field OPERATOR
value`` joined by ``AND``/``OR`` with parentheses, e.g. ``externalId IS "SF-001"`` or
``email START_WITH "ap@"`` (operators of NetSuite's record collection filtering:
``IS``, ``IS_NOT``, ``START_WITH``, ``CONTAIN``, ``END_WITH`` and their ``_NOT``,
``EQUAL``, ``GREATER``, ``LESS``..., ``ANY_OF``, ``EMPTY``, ``AFTER``, ``BEFORE``, ``ON``...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from revbridge_sandboxes.netsuite.errors import invalid_parameter

MAX_PAGE = 1000


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    limit = _int_param(query, "limit", MAX_PAGE)
    offset = _int_param(query, "offset", 0)
    if not 1 <= limit <= MAX_PAGE:
        raise invalid_parameter(
            "limit",
            f"Invalid value for the query parameter 'limit'. Use a value from 1 to {MAX_PAGE}.",
        )
    if offset < 0:
        raise invalid_parameter(
            "offset", "Invalid value for the query parameter 'offset'. Use a value of 0 or more."
        )
    return limit, offset


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_parameter(
            name, f"Invalid value for the query parameter '{name}'. Provide an integer."
        ) from None


def envelope(
    items: list[dict[str, Any]],
    total: int,
    limit: int,
    offset: int,
    url: str,
    extra: Mapping[str, str],
) -> dict[str, Any]:
    """The collection body for one page; ``url`` without query, ``extra`` its other params."""

    def href(at: int) -> str:
        return f"{url}?{urlencode({**extra, 'limit': limit, 'offset': at})}"

    links = []
    if offset > 0:
        links += [
            {"rel": "previous", "href": href(max(0, offset - limit))},
            {"rel": "first", "href": href(0)},
        ]
    has_more = offset + len(items) < total
    if has_more:
        last = ((total - 1) // limit) * limit
        links += [
            {"rel": "next", "href": href(offset + limit)},
            {"rel": "last", "href": href(last)},
        ]
    links.append({"rel": "self", "href": href(offset)})
    return {
        "links": links,
        "count": len(items),
        "hasMore": has_more,
        "items": items,
        "offset": offset,
        "totalResults": total,
    }


# -- record collection filtering --------------------------------------------------------------

Predicate = Callable[[Callable[[str], Any]], bool]

_TOKEN = re.compile(
    r'\s*(?:(\()|(\))|(\[)|(\])|(,)|"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^\s()\[\],]+))'
)
_NO_VALUE = {"EMPTY", "EMPTY_NOT"}


class QueryError(ValueError):
    pass


def parse_filter(text: str, known: Callable[[str], str | None]) -> Predicate:
    """Compile a ``q`` filter; ``known`` maps a field name to its canonical name (or None)."""
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise QueryError("Unexpected end of the query.")
        pos += 1
        return tokens[pos - 1]

    def expr() -> Predicate:
        left = term()
        while (tok := peek()) and tok == ("word", "OR"):
            take()
            right = term()
            left = _or(left, right)
        return left

    def term() -> Predicate:
        left = cond()
        while (tok := peek()) and tok == ("word", "AND"):
            take()
            right = cond()
            left = _and(left, right)
        return left

    def cond() -> Predicate:
        kind, value = take()
        if kind == "(":
            inner = expr()
            if take()[0] != ")":
                raise QueryError("Missing closing parenthesis.")
            return inner
        field = known(value) if kind == "word" else None
        if field is None:
            raise QueryError(f"Field '{value}' for this record type was not found.")
        op = take()[1].upper()
        if op in _NO_VALUE:
            return _condition(field, op, [])
        if peek() and peek() == ("[", "["):
            take()
            values = []
            while (tok := take())[0] != "]":
                if tok[0] != ",":
                    values.append(tok[1])
            return _condition(field, op, values)
        return _condition(field, op, [take()[1]])

    result = expr()
    if pos != len(tokens):
        raise QueryError(f"Unexpected token '{tokens[pos][1]}'.")
    return result


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"Unexpected character at position {pos}.")
        pos = m.end()
        lpar, rpar, lbr, rbr, comma, dq, sq, word = m.groups()
        if word is not None:
            out.append(("word", word))
        elif dq is not None or sq is not None:
            out.append(("str", (dq if dq is not None else sq or "").replace('\\"', '"')))
        else:
            sym = lpar or rpar or lbr or rbr or comma or ""
            out.append((sym, sym))
    return out


def _and(a: Predicate, b: Predicate) -> Predicate:
    return lambda get: a(get) and b(get)


def _or(a: Predicate, b: Predicate) -> Predicate:
    return lambda get: a(get) or b(get)


def _condition(field: str, op: str, values: list[str]) -> Predicate:
    negate = op.endswith("_NOT")
    base = op[:-4] if negate else op
    test = _TESTS.get(base)
    if test is None or (base not in _NO_VALUE and base != "EMPTY" and not values):
        raise QueryError(f"Invalid operator '{op}'.")

    def check(get: Callable[[str], Any]) -> bool:
        result = test(_plain(get(field)), values)
        return not result if negate else result

    return check


def _plain(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value.get("id")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _num(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", value)
    if m:
        return f"{m.group(3)}-{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    return value[:10]


def _compare(cmp: Callable[[float, float], bool]) -> Callable[[str | None, list[str]], bool]:
    def test(value: str | None, values: list[str]) -> bool:
        a, b = _num(value), _num(values[0])
        return a is not None and b is not None and cmp(a, b)

    return test


def _date_cmp(cmp: Callable[[str, str], bool]) -> Callable[[str | None, list[str]], bool]:
    def test(value: str | None, values: list[str]) -> bool:
        a, b = _date(value), _date(values[0])
        return a is not None and b is not None and cmp(a, b)

    return test


def _lower(value: str | None) -> str:
    return (value or "").lower()


_TESTS: dict[str, Callable[[str | None, list[str]], bool]] = {
    "IS": lambda v, vs: _lower(v) == vs[0].lower(),
    "START_WITH": lambda v, vs: _lower(v).startswith(vs[0].lower()),
    "CONTAIN": lambda v, vs: vs[0].lower() in _lower(v),
    "END_WITH": lambda v, vs: _lower(v).endswith(vs[0].lower()),
    "ENDWITH": lambda v, vs: _lower(v).endswith(vs[0].lower()),
    "EMPTY": lambda v, vs: v is None,
    "ANY_OF": lambda v, vs: v is not None and v in vs,
    "EQUAL": _compare(lambda a, b: a == b),
    "GREATER": _compare(lambda a, b: a > b),
    "GREATER_OR_EQUAL": _compare(lambda a, b: a >= b),
    "LESS": _compare(lambda a, b: a < b),
    "LESS_OR_EQUAL": _compare(lambda a, b: a <= b),
    "AFTER": _date_cmp(lambda a, b: a > b),
    "BEFORE": _date_cmp(lambda a, b: a < b),
    "ON": _date_cmp(lambda a, b: a == b),
    "ON_OR_AFTER": _date_cmp(lambda a, b: a >= b),
    "ON_OR_BEFORE": _date_cmp(lambda a, b: a <= b),
}
