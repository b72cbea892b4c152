"""The handler toolkit: what a handler receives, how it is declared, how it answers.

A resource handler gets a :class:`Call` (the account, validated params, path
arguments) and returns the JSON body; it is declared with the schema of its
params as an :class:`Endpoint`. Answers go through :func:`render` (one object)
or :func:`page` (a list).

Lists answer ``{"object": "list", "data": [...], "has_more": bool, "url": ...}``;
``limit`` is 1..100 (default 10), ``starting_after`` pages towards older objects and
``ending_before`` towards newer ones. ``expand[]=customer`` or
``expand[]=data.latest_invoice`` replaces an id by the object it names; paths may
go through lists (``items.data.price.product``), up to four levels like Stripe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import Obj
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, Table
from revbridge_sandboxes.stripe.views import list_object, view

Match = Callable[[Record], bool]
MAX_EXPAND_DEPTH = 4


@dataclass
class Call:
    """One validated API call: the account, the params and the path arguments."""

    state: StripeState
    params: dict[str, Any]
    path: dict[str, str]
    url: str

    def arg(self, name: str) -> str:
        return self.path[name]

    @property
    def expand(self) -> list[str]:
        value = self.params.get("expand") or []
        return list(value)


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A handler and the schema of the parameters it accepts."""

    spec: Obj
    handler: Handler


#: path template → HTTP method → endpoint; each resource module exports one.
Routes = dict[str, dict[str, Endpoint]]


def page(call: Call, table: Table, url: str, match: Match | None = None) -> dict[str, Any]:
    """One page of ``table`` for a list call, with the caller's filters applied."""
    params = call.params
    limit = params.get("limit") or 10
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise StripeError.invalid(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    keep = _with_created(match, params.get("created"))
    if before:
        position = _position(table, before, "ending_before")
        newer = islice(_filtered(table.oldest_first(position), keep), limit + 1)
        rows = list(newer)
        has_more = len(rows) > limit
        rows = rows[:limit][::-1]
    else:
        start = _position(table, after, "starting_after") if after else None
        rows = list(islice(_filtered(table.newest_first(start), keep), limit + 1))
        has_more = len(rows) > limit
        rows = rows[:limit]
    data = [view(call.state, r) for r in rows]
    body = list_object(data, url, has_more)
    return expand(call.state, body, call.expand)


def everything(table: Table, match: Match | None = None) -> Iterator[Record]:
    return _filtered(table.newest_first(), match)


def expand(state: StripeState, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Replace ids by objects along each dotted path; unknown paths are left alone."""
    for path in paths:
        parts = path.split(".")
        if len(parts) <= MAX_EXPAND_DEPTH or parts[0] == "data":
            _expand(state, body, parts)
    return body


def render(call: Call, record: Record) -> dict[str, Any]:
    """The public view of one object, expanded as the call asked."""
    return expand(call.state, view(call.state, record), call.expand)


def _expand(state: StripeState, node: dict[str, Any], parts: list[str]) -> None:
    key, rest = parts[0], parts[1:]
    value = node.get(key)
    if isinstance(value, str):
        found = state.find(value)
        if found is None:
            return
        value = view(state, found)
    elif isinstance(value, dict):
        value = dict(value)  # copy before descending: never touch the stored record
    elif isinstance(value, list):
        value = [dict(v) if isinstance(v, dict) else v for v in value]
    else:
        return
    node[key] = value
    if rest:
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, dict):
                _expand(state, child, rest)


def _position(table: Table, object_id: str, param: str) -> int:
    position = table.position(object_id)
    if position is None:
        raise StripeError.no_such(table.noun, object_id, param)
    return position


def _filtered(rows: Iterator[Record], keep: Match | None) -> Iterator[Record]:
    if keep is None:
        return (r for r in rows if not r.get("deleted"))
    return (r for r in rows if not r.get("deleted") and keep(r))


def _with_created(match: Match | None, created: Any) -> Match | None:
    if created is None:
        return match
    test = within(created)
    if match is None:
        return lambda r: test(r["created"])
    return lambda r: test(r["created"]) and match(r)


def within(bounds: Any) -> Callable[[int], bool]:
    """A test for ``created``-style filters: an exact int or ``{gt, gte, lt, lte}``."""
    if isinstance(bounds, int):
        return lambda v: v == bounds
    gt, gte, lt, lte = (bounds.get(k) for k in ("gt", "gte", "lt", "lte"))
    return lambda v: (
        (gt is None or v > gt)
        and (gte is None or v >= gte)
        and (lt is None or v < lt)
        and (lte is None or v <= lte)
    )
