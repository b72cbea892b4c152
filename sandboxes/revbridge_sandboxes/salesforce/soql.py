"""A SOQL parser for the subset the sandbox runs.

``SELECT`` fields, parent paths (``Account.Parent.Name``), child subqueries, ``COUNT()``
and simple aggregates, ``FIELDS(ALL|STANDARD|CUSTOM)``; ``FROM`` one object (optional
alias); ``WHERE`` with ``AND``/``OR``/``NOT`` (never mixed without parentheses, as in
SOQL), ``= != <> < <= > >= LIKE IN NOT IN`` and semi-join subqueries; ``GROUP BY``,
``ORDER BY ... ASC|DESC NULLS FIRST|LAST``, ``LIMIT``, ``OFFSET``. Errors carry the
position Salesforce reports them at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from revbridge_sandboxes.salesforce.errors import SalesforceError

_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
    |(?P<string>'(?:\\.|[^'\\])*')
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\d:T]))
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<op><>|!=|<=|>=|=|<|>)
    |(?P<punct>[(),:])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})
_CLAUSE_END = frozenset({"WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "FOR", "WITH", "USING"})


class SoqlError(Exception):
    def __init__(self, code: str, message: str, pos: int) -> None:
        super().__init__(message)
        self.code, self.message, self.pos = code, message, pos

    def to_salesforce(self, text: str) -> SalesforceError:
        row = text.count("\n", 0, self.pos) + 1
        line_start = text.rfind("\n", 0, self.pos) + 1
        line_end = text.find("\n", self.pos)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        col = self.pos - line_start
        body = f"\n{line}\n{' ' * col}^\nERROR at Row:{row}:Column:{col + 1}\n{self.message}"
        return SalesforceError(400, self.code, body)


@dataclass
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass
class FieldRef:
    path: list[str]
    pos: int


@dataclass
class Aggregate:
    func: str
    arg: FieldRef | None
    alias: str | None
    pos: int


@dataclass
class FieldsMacro:
    kind: str
    pos: int


@dataclass
class SubQuery:
    query: Query
    pos: int


SelectItem = FieldRef | Aggregate | FieldsMacro | SubQuery


@dataclass
class Value:
    kind: Literal["string", "number", "boolean", "null", "date", "datetime", "dateliteral"]
    value: Any
    pos: int
    text: str


@dataclass
class Condition:
    field: FieldRef
    op: str
    value: Value | list[Value] | Query
    pos: int


@dataclass
class BoolOp:
    op: str
    items: list[Expr]


@dataclass
class Not:
    item: Expr


Expr = Condition | BoolOp | Not


@dataclass
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    select: list[SelectItem]
    sobject: str
    sobject_pos: int
    alias: str | None = None
    where: Expr | None = None
    group_by: list[FieldRef] = field(default_factory=list)
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[pos]}'", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def parse(text: str) -> Query:
    parser = _Parser(tokenize(text))
    query = parser.query()
    parser.expect_end()
    return query


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, token: Token | None = None) -> SoqlError:
        token = token or self.tok
        return SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'", token.pos)

    def keyword(self, *words: str) -> bool:
        if self.tok.kind == "ident" and self.tok.upper in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> Token:
        if not (self.tok.kind == "ident" and self.tok.upper == word):
            raise self.fail()
        return self.next()

    def expect(self, text: str) -> Token:
        if self.tok.text != text:
            raise self.fail()
        return self.next()

    def expect_end(self) -> None:
        if self.tok.kind != "eof":
            raise self.fail()

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        select = self.select_list()
        self.expect_keyword("FROM")
        if self.tok.kind != "ident":
            raise self.fail()
        name = self.next()
        query = Query(select, name.text, name.pos)
        if self.tok.kind == "ident" and self.tok.upper not in _CLAUSE_END:
            query.alias = self.next().text
        if self.keyword("WHERE"):
            query.where = self.expr()
        if self.keyword("GROUP"):
            self.expect_keyword("BY")
            query.group_by = [self.field_ref()]
            while self.tok.text == ",":
                self.next()
                query.group_by.append(self.field_ref())
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            query.order = [self.order_item()]
            while self.tok.text == ",":
                self.next()
                query.order.append(self.order_item())
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        if self.keyword("FOR") and not self.keyword("VIEW", "REFERENCE", "UPDATE"):
            raise self.fail()
        return query

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(token)
        return int(token.text)

    def select_list(self) -> list[SelectItem]:
        items = [self.select_item()]
        while self.tok.text == ",":
            self.next()
            items.append(self.select_item())
        return items

    def select_item(self) -> SelectItem:
        token = self.tok
        if token.text == "(":
            self.next()
            sub = self.query()
            self.expect(")")
            return SubQuery(sub, token.pos)
        if token.kind != "ident" or token.upper in ("FROM",):
            raise self.fail()
        if self.tokens[self.i + 1].text == "(":
            return self.function_item()
        return self.field_ref()

    def function_item(self) -> SelectItem:
        name = self.next()
        self.expect("(")
        if name.upper == "FIELDS":
            kind = self.next()
            if kind.upper not in ("ALL", "STANDARD", "CUSTOM"):
                raise self.fail(kind)
            self.expect(")")
            return FieldsMacro(kind.upper, name.pos)
        if name.upper not in AGGREGATES:
            raise SoqlError("MALFORMED_QUERY", f"Unknown function: {name.text}", name.pos)
        arg = None if self.tok.text == ")" else self.field_ref()
        self.expect(")")
        alias = None
        if self.tok.kind == "ident" and self.tok.upper not in _CLAUSE_END | {"FROM"}:
            alias = self.next().text
        return Aggregate(name.upper, arg, alias, name.pos)

    def field_ref(self) -> FieldRef:
        token = self.next()
        if token.kind != "ident":
            raise self.fail(token)
        return FieldRef(token.text.split("."), token.pos)

    def order_item(self) -> OrderItem:
        ref = self.field_ref()
        descending = False
        if self.keyword("DESC"):
            descending = True
        else:
            self.keyword("ASC")
        nulls_last = descending
        if self.keyword("NULLS"):
            if self.keyword("LAST"):
                nulls_last = True
            else:
                self.expect_keyword("FIRST")
                nulls_last = False
        return OrderItem(ref, descending, nulls_last)

    def expr(self) -> Expr:
        first = self.unary()
        if not (self.tok.kind == "ident" and self.tok.upper in ("AND", "OR")):
            return first
        op = self.tok.upper
        items = [first]
        while self.tok.kind == "ident" and self.tok.upper in ("AND", "OR"):
            if self.tok.upper != op:
                raise self.fail()
            self.next()
            items.append(self.unary())
        return BoolOp(op, items)

    def unary(self) -> Expr:
        if self.keyword("NOT"):
            return Not(self.unary())
        if self.tok.text == "(":
            self.next()
            inner = self.expr()
            self.expect(")")
            return inner
        return self.condition()

    def condition(self) -> Condition:
        ref = self.field_ref()
        token = self.tok
        if token.kind == "op":
            self.next()
            op = "!=" if token.text == "<>" else token.text
            return Condition(ref, op, self.value(), token.pos)
        if self.keyword("LIKE"):
            return Condition(ref, "LIKE", self.value(), token.pos)
        negated = self.keyword("NOT")
        if self.keyword("IN"):
            return Condition(ref, "NOT IN" if negated else "IN", self.value_list(), token.pos)
        raise self.fail()

    def value_list(self) -> list[Value] | Query:
        self.expect("(")
        if self.tok.kind == "ident" and self.tok.upper == "SELECT":
            sub = self.query()
            self.expect(")")
            return sub
        values = [self.value()]
        while self.tok.text == ",":
            self.next()
            values.append(self.value())
        self.expect(")")
        return values

    def value(self) -> Value:
        token = self.next()
        if token.kind == "string":
            inner = re.sub(
                r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token.text[1:-1]
            )
            return Value("string", inner, token.pos, token.text)
        if token.kind == "number":
            return Value("number", Decimal(token.text), token.pos, token.text)
        if token.kind in ("date", "datetime"):
            return Value(token.kind, token.text, token.pos, token.text)  # type: ignore[arg-type]
        if token.kind == "ident":
            word = token.upper
            if word in ("TRUE", "FALSE"):
                return Value("boolean", word == "TRUE", token.pos, token.text)
            if word == "NULL":
                return Value("null", None, token.pos, token.text)
            if self.tok.text == ":":
                self.next()
                n = self.integer()
                return Value("dateliteral", (word, n), token.pos, f"{token.text}:{n}")
            return Value("dateliteral", (word, None), token.pos, token.text)
        raise self.fail(token)
