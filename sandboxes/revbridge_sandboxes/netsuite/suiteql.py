"""A SuiteQL subset: one-table ``SELECT`` with ``WHERE`` and ``ORDER BY``.

Supported: ``SELECT [DISTINCT] * | col [AS alias], ... | COUNT(*)``, ``FROM table
[alias]``, conditions with ``= != <> < > <= >=``, ``[NOT] IN (...)``, ``[NOT] LIKE``,
``IS [NOT] NULL``, ``[NOT] BETWEEN x AND y``, ``UPPER()``/``LOWER()``, ``AND``/``OR``/
``NOT`` and parentheses (SQL three-valued logic), ``ORDER BY col [ASC|DESC], ...``
(nulls last ascending, first descending, as in Oracle). Columns may be qualified by the
table or its alias; names are case-insensitive and come back in lower case. Comparisons
are numeric when both sides are numbers, else case-sensitive text. No joins, no
``GROUP BY``: queries outside the subset get NetSuite's "Invalid search query" error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from revbridge_sandboxes.netsuite.errors import NsError, invalid_parameter
from revbridge_sandboxes.netsuite.tables import COLUMNS, Row

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_.$]*)"
    r"|(?P<op><=|>=|<>|!=|=|<|>|\(|\)|,|\*))"
)
_PREFIX = "Invalid search query. Detailed unprocessed description follows. "

Value = str | float | None
Expr = Callable[[Row], Any]


def query_error(detail: str) -> NsError:
    return invalid_parameter("q", _PREFIX + detail)


@dataclass
class Query:
    table: str
    columns: list[tuple[str, Expr]]  # output name, value
    count: str | None = None  # output name of COUNT(*)
    where: Expr | None = None
    order: list[tuple[Expr, bool]] = field(default_factory=list)  # (key, descending)
    distinct: bool = False

    def run(self, rows: list[Row]) -> list[dict[str, Any]]:
        if self.where is not None:
            where = self.where
            rows = [r for r in rows if where(r) is True]
        if self.count is not None:
            return [{self.count: str(len(rows))}]
        for key, descending in reversed(self.order):
            rows.sort(key=_sort_key(key), reverse=descending)
        out = [{name: expr(r) for name, expr in self.columns} for r in rows]
        if self.distinct:
            seen: set[tuple[Any, ...]] = set()
            unique = []
            for row in out:
                marker = tuple(row.values())
                if marker not in seen:
                    seen.add(marker)
                    unique.append(row)
            out = unique
        return [{k: v for k, v in row.items() if v is not None} for row in out]


def _sort_key(key: Expr) -> Callable[[Row], tuple[int, int, float, str]]:
    """Nulls sort high: last ascending, first descending (Oracle's default)."""

    def sort_key(row: Row) -> tuple[int, int, float, str]:
        value = key(row)
        if value is None:
            return (1, 0, 0.0, "")
        number = _number(value)
        if number is not None:
            return (0, 0, number, "")
        return (0, 1, 0.0, str(value))

    return sort_key


def _number(value: Any) -> float | None:
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse(text: str) -> Query:
    return _Parser(_tokenize(text)).query()


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise query_error(
                f"Search error occurred: Invalid or unsupported search. Unexpected "
                f"'{text[pos : pos + 20].strip()}'."
            )
        pos = m.end()
        kind = m.lastgroup or "op"
        tokens.append((kind, m.group(kind)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.table = ""
        self.names: set[str] = set()

    # -- token helpers ------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "id" and value.upper() in words

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end":
            raise self.unsupported("Unexpected end of query.")
        self.pos += 1
        return tok

    def expect(self, value: str) -> None:
        _, got = self.take()
        if got.upper() != value:
            raise self.unsupported(f"Expected {value} but found '{got}'.")

    def unsupported(self, why: str) -> NsError:
        return query_error(f"Search error occurred: Invalid or unsupported search. {why}")

    # -- grammar ------------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect("SELECT")
        distinct = self.word("DISTINCT") and bool(self.take())
        start = self.pos
        while not self.word("FROM"):
            self.take()
        select_end = self.pos
        self.take()
        self.table = self.take()[1].lower()
        if self.table not in COLUMNS:
            raise query_error(f"Invalid search type: {self.table}.")
        self.names = {self.table}
        if self.peek()[0] == "id" and not self.word("WHERE", "ORDER"):
            self.names.add(self.take()[1].lower())
        after_from = self.pos
        self.pos = start
        columns, count = self.select_list(select_end)
        self.pos = after_from
        q = Query(self.table, columns, count, distinct=distinct)
        if self.word("WHERE"):
            self.take()
            q.where = self.expr()
        if self.word("ORDER"):
            self.take()
            self.expect("BY")
            q.order = self.order_list()
        if self.peek()[0] != "end":
            raise self.unsupported(f"Unexpected '{self.peek()[1]}'.")
        return q

    def select_list(self, end: int) -> tuple[list[tuple[str, Expr]], str | None]:
        if self.peek() == ("op", "*"):
            self.take()
            return [(c, _column(c)) for c in COLUMNS[self.table]], None
        columns: list[tuple[str, Expr]] = []
        count: str | None = None
        while self.pos < end:
            if self.word("COUNT") and self.peek(1) == ("op", "("):
                self.pos += 2
                self.expect("*")
                self.expect(")")
                count = self.alias(end) or "expr1"
            else:
                start = self.pos
                expr = self.operand()
                default = self.tokens[start][1].split(".")[-1].lower()
                columns.append((self.alias(end) or default, expr))
            if self.pos < end:
                self.expect(",")
        if count is not None and columns:
            raise self.unsupported("Aggregates need GROUP BY, which is not supported.")
        return columns, count

    def alias(self, end: int) -> str | None:
        if self.pos < end and self.word("AS"):
            self.take()
        if self.pos < end and self.peek()[0] == "id":
            return self.take()[1].lower()
        return None

    def order_list(self) -> list[tuple[Expr, bool]]:
        order = []
        while True:
            expr = self.operand()
            descending = False
            if self.word("ASC", "DESC"):
                descending = self.take()[1].upper() == "DESC"
            order.append((expr, descending))
            if self.peek() != ("op", ","):
                return order
            self.take()

    def expr(self) -> Expr:
        left = self.conjunction()
        while self.word("OR"):
            self.take()
            left = _or(left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.word("AND"):
            self.take()
            left = _and(left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.word("NOT"):
            self.take()
            inner = self.negation()
            return lambda row: None if (v := inner(row)) is None else not v
        if self.peek() == ("op", "("):
            self.take()
            inner = self.expr()
            self.expect(")")
            return inner
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.operand()
        negate = self.word("NOT") and bool(self.take())
        if self.word("IS"):
            self.take()
            is_not = self.word("NOT") and bool(self.take())
            self.expect("NULL")
            return lambda row: (left(row) is None) != is_not
        if self.word("IN"):
            self.take()
            self.expect("(")
            values = [self.operand()]
            while self.peek() == ("op", ","):
                self.take()
                values.append(self.operand())
            self.expect(")")
            return _negated(_in(left, values), negate)
        if self.word("LIKE"):
            self.take()
            return _negated(_like(left, self.operand()), negate)
        if self.word("BETWEEN"):
            self.take()
            low = self.operand()
            self.expect("AND")
            high = self.operand()
            return _negated(_and(_cmp(left, ">=", low), _cmp(left, "<=", high)), negate)
        if negate:
            raise self.unsupported("NOT must precede IN, LIKE or BETWEEN.")
        kind, op = self.take()
        if kind != "op" or op not in ("=", "!=", "<>", "<", ">", "<=", ">="):
            raise self.unsupported(f"Unexpected '{op}'.")
        return _cmp(left, op, self.operand())

    def operand(self) -> Expr:
        kind, value = self.take()
        if kind == "str":
            text = value[1:-1].replace("''", "'")
            return lambda row: text
        if kind == "num":
            number = float(value)
            return lambda row: number
        if kind == "id" and value.upper() in ("UPPER", "LOWER") and self.peek() == ("op", "("):
            self.take()
            inner = self.operand()
            self.expect(")")
            upper = value.upper() == "UPPER"
            return lambda row: _case(inner(row), upper)
        if kind == "id" and value.upper() == "NULL":
            return lambda row: None
        if kind != "id":
            raise self.unsupported(f"Unexpected '{value}'.")
        return _column(self.column_name(value))

    def column_name(self, name: str) -> str:
        parts = name.lower().split(".")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] not in self.names):
            raise query_error(
                f"Search error occurred: Field '{name}' for record "
                f"'{self.table}' was not found. Reason: NOT_EXPOSED - "
                "Not available for channel SEARCH"
            )
        column = parts[-1]
        if column not in COLUMNS[self.table]:
            raise query_error(
                f"Search error occurred: Field '{column}' for record "
                f"'{self.table}' was not found. Reason: NOT_EXPOSED - "
                "Not available for channel SEARCH"
            )
        return column


def _column(name: str) -> Expr:
    return lambda row: row.get(name)


def _case(value: Any, upper: bool) -> Any:
    if not isinstance(value, str):
        return value
    return value.upper() if upper else value.lower()


def _and(a: Expr, b: Expr) -> Expr:
    def both(row: Row) -> bool | None:
        x, y = a(row), b(row)
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    return both


def _or(a: Expr, b: Expr) -> Expr:
    def either(row: Row) -> bool | None:
        x, y = a(row), b(row)
        if x is True or y is True:
            return True
        return None if x is None or y is None else False

    return either


def _negated(expr: Expr, negate: bool) -> Expr:
    if not negate:
        return expr
    return lambda row: None if (v := expr(row)) is None else not v


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _compare(a: Value, op: str, b: Value) -> bool | None:
    if a is None or b is None:
        return None
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return _OPS[op](x, y)
    return _OPS[op](str(a), str(b))


def _cmp(left: Expr, op: str, right: Expr) -> Expr:
    return lambda row: _compare(left(row), op, right(row))


def _in(left: Expr, values: list[Expr]) -> Expr:
    def member(row: Row) -> bool | None:
        value = left(row)
        if value is None:
            return None
        return any(_compare(value, "=", v(row)) for v in values)

    return member


def _like(left: Expr, pattern: Expr) -> Expr:
    cache: dict[str, re.Pattern[str]] = {}

    def like(row: Row) -> bool | None:
        value, pat = left(row), pattern(row)
        if value is None or pat is None:
            return None
        regex = cache.get(str(pat))
        if regex is None:
            body = "".join(
                ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pat)
            )
            regex = cache[str(pat)] = re.compile(f"^{body}$", re.DOTALL)
        return regex.match(str(value)) is not None

    return like
