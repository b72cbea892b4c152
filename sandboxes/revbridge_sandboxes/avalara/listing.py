"""ListTransactionsByCompany: ``$filter``, ``$orderBy``, ``$top``/``$skip`` and ``@nextLink``.

``GET /api/v2/companies/{companyCode}/transactions`` answers a ``FetchResult``:
``{"@recordsetCount", "value", "@nextLink"?}`` over the company's current documents
(adjusted versions stay reachable by id only). As AvaTax documents, a ``$filter``
without a ``date`` criterion looks only at documents dated in the past 30 days; a page
holds at most 1,000 documents; ``$include`` (``Lines``, ``Details``, ``Summary``,
``Addresses``) adds nested data, which a listing leaves out by default.

``$filter`` follows "Filtering in AvaTax REST": ``field op value`` with ``eq ne gt ge lt
le`` (or ``= != <> > >= < <=``), ``field between a and b``, ``field in (a, b)``, ``and``,
``or``, ``not`` and parentheses; values are ``'quoted'`` (``''`` escapes a quote),
numbers, ``true``/``false`` or ``null``. Fields are the document's top-level scalar
fields (``code``, ``date``, ``status``, ``type``, ``customerCode``, ``totalTax``...),
case-insensitive; text compares case-insensitively. Errors: ``MalformedFilterException``
(182), ``ExpectedConjunctionError`` (183), ``CriteriaNotSupportedError`` (184).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

from revbridge_sandboxes.avalara import errors
from revbridge_sandboxes.avalara.errors import ErrorDetail

MAX_TOP = 1000
DEFAULT_WINDOW_DAYS = 30
Model = dict[str, Any]
Test = Callable[[Model], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w-])"
    r"|(?P<op><=|>=|<>|!=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][\w.]*))"
)
_SYMBOLS = {"=": "eq", "!=": "ne", "<>": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}
_COMPARE: dict[str, Callable[[int], bool]] = {
    "eq": lambda c: c == 0,
    "ne": lambda c: c != 0,
    "gt": lambda c: c > 0,
    "ge": lambda c: c >= 0,
    "lt": lambda c: c < 0,
    "le": lambda c: c <= 0,
}


def _filter_error(code: str, number: int, message: str, description: str) -> errors.AvaTaxError:
    return errors.AvaTaxError(
        400, "IncorrectData", [ErrorDetail(code, number, message, description, "$filter")]
    )


def malformed(why: str) -> errors.AvaTaxError:
    return _filter_error(
        "MalformedFilterException", 182, "The $filter parameter could not be parsed.", why
    )


def _text(value: Any) -> str:
    return str(value).casefold()


def _compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1; None when either side is null (the test is then false)."""
    if left is None or right is None:
        return None
    if isinstance(left, bool) or isinstance(right, bool):
        a, b = _text(left), _text(right)
    else:
        try:
            x, y = Decimal(str(left)), Decimal(str(right))
        except InvalidOperation:
            a, b = _text(left), _text(right)
        else:
            return (x > y) - (x < y)
    return (a > b) - (a < b)


class FilterParser:
    """Parses one ``$filter`` into a test over document models."""

    def __init__(self, text: str, fields: set[str]) -> None:
        self.fields = {f.casefold(): f for f in fields}
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.uses_date = False

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if not text[pos:].strip():
                    break
                raise malformed(f"Unexpected text '{text[pos : pos + 20].strip()}'.")
            pos = m.end()
            kind = m.lastgroup or "op"
            tokens.append((kind, m.group(kind)))
        return tokens

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise malformed("The filter ended too early.")
        self.pos += 1
        return token

    def word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "word" and value.lower() in words

    def parse(self) -> Test:
        test = self.disjunction()
        if self.peek()[0] != "end":
            if self.peek()[0] == "word":
                raise _filter_error(
                    "ExpectedConjunctionError",
                    183,
                    "The filter was missing a conjunction",
                    "Use one of the conjunctions 'AND', 'OR' to join filter clauses",
                )
            raise malformed(f"Unexpected '{self.peek()[1]}'.")
        return test

    def disjunction(self) -> Test:
        tests = [self.conjunction()]
        while self.word("or"):
            self.take()
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else lambda m: any(t(m) for t in tests)

    def conjunction(self) -> Test:
        tests = [self.negation()]
        while self.word("and"):
            self.take()
            tests.append(self.negation())
        return tests[0] if len(tests) == 1 else lambda m: all(t(m) for t in tests)

    def negation(self) -> Test:
        if self.word("not"):
            self.take()
            inner = self.negation()
            return lambda m: not inner(m)
        if self.peek() == ("op", "("):
            self.take()
            inner = self.disjunction()
            if self.take() != ("op", ")"):
                raise malformed("Expected ')'.")
            return inner
        return self.criterion()

    def criterion(self) -> Test:
        kind, name = self.take()
        if kind != "word":
            raise malformed(f"Expected a field name but found '{name}'.")
        field = self.fields.get(name.casefold())
        if field is None:
            raise _filter_error(
                "CriteriaNotSupportedError",
                184,
                "Your $filter parameter contains criteria that are not supported.",
                f"The field '{name}' cannot be used in $filter on this API.",
            )
        self.uses_date = self.uses_date or field == "date"
        kind, op = self.take()
        op = _SYMBOLS.get(op, op.lower())
        if op == "between":
            low = self.value()
            if not self.word("and"):
                raise malformed("BETWEEN needs two values joined by AND.")
            self.take()
            high = self.value()
            return lambda m: (
                (c1 := _compare(m.get(field), low)) is not None
                and c1 >= 0
                and ((c2 := _compare(m.get(field), high)) is not None and c2 <= 0)
            )
        if op == "in":
            values = self.value_list()
            return lambda m: any(_compare(m.get(field), v) == 0 for v in values)
        if op not in _COMPARE:
            raise malformed(f"Unknown operator '{op}'.")
        value, check = self.value(), _COMPARE[op]
        if value is None and op in ("eq", "ne"):
            return lambda m: (m.get(field) is None) == (op == "eq")
        return lambda m: (c := _compare(m.get(field), value)) is not None and check(c)

    def value(self) -> Any:
        kind, raw = self.take()
        if kind == "str":
            return raw[1:-1].replace("''", "'")
        if kind == "num":
            return Decimal(raw)
        if kind == "word" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "word" and raw.lower() == "null":
            return None
        raise malformed(f"Expected a value but found '{raw}'.")

    def value_list(self) -> list[Any]:
        if self.take() != ("op", "("):
            raise malformed("IN needs a list of values in parentheses.")
        values = [self.value()]
        while self.peek() == ("op", ","):
            self.take()
            values.append(self.value())
        if self.take() != ("op", ")"):
            raise malformed("Expected ')'.")
        return values


def _everything(model: Model) -> bool:
    return True


def scalar_fields(models: list[Model]) -> set[str]:
    fields = {"id", "code", "companyId", "date", "status", "type", "customerCode"}
    for model in models:
        fields.update(k for k, v in model.items() if not isinstance(v, list | dict))
    return fields


def select(models: list[Model], text: str | None, today: date) -> list[Model]:
    """The models ``$filter`` keeps (the last 30 days when it names no ``date``)."""
    test: Test = _everything
    uses_date = False
    if text and text.strip():
        parser = FilterParser(text, scalar_fields(models))
        test, uses_date = parser.parse(), parser.uses_date
    if not uses_date:
        since = (today - timedelta(days=DEFAULT_WINDOW_DAYS)).isoformat()
        return [m for m in models if str(m.get("date", "")) >= since and test(m)]
    return [m for m in models if test(m)]


def order(models: list[Model], text: str | None) -> list[Model]:
    """Sort by ``$orderBy`` (``field [ASC|DESC], ...``); by id when none is given."""
    out = sorted(models, key=lambda m: int(m["id"]))
    clauses = [c.split() for c in (text or "").split(",") if c.strip()]
    fields = {f.casefold(): f for f in scalar_fields(models)}
    for clause in reversed(clauses):
        field = fields.get(clause[0].casefold())
        direction = clause[1].lower() if len(clause) > 1 else "asc"
        if field is None or len(clause) > 2 or direction not in ("asc", "desc"):
            raise errors.invalid_request(
                [errors.model_state_invalid("$orderBy", " ".join(clause), "OrderBy")]
            )
        out.sort(key=_field_key(field), reverse=direction == "desc")
    return out


def _field_key(field: str) -> Callable[[Model], tuple[int, Decimal, str]]:
    return lambda model: _sort_key(model.get(field))


def _sort_key(value: Any) -> tuple[int, Decimal, str]:
    if value is None:
        return (0, Decimal(0), "")
    try:
        return (1, Decimal(str(value)), "")
    except InvalidOperation:
        return (2, Decimal(0), _text(value))


def next_link(path: str, params: dict[str, str], top: int, skip: int) -> str:
    """The relative URL of the next page, keeping the other query parameters."""
    query = {k: v for k, v in params.items() if k not in ("$top", "$skip")}
    query.update({"$top": str(top), "$skip": str(skip + top)})
    return f"{path}?{urlencode(query, quote_via=quote, safe='$')}"


def today() -> date:
    return datetime.now(UTC).date()
