"""Decoding of Stripe's v1 form encoding: ``a[b][0][c]=v`` into nested dicts and lists.

Stripe v1 bodies (and GET query strings) are ``application/x-www-form-urlencoded``
with bracket notation: ``metadata[crm_id]=006``, ``items[0][price]=price_1``,
``expand[]=customer``. Arrays come either indexed (``a[0]``, ``a[1]``; the official
SDKs always index) or as ``a[]`` repeated. Indexed arrays decode to dicts keyed by
the digits (``{"0": ..., "1": ...}``) because only the parameter schema knows whether
``metadata[7]`` is a hash key or an array index; :mod:`.params` turns them into
lists where the schema wants an array. A scalar that is later used as a hash
(``a=1&a[b]=2``) is rejected the way Stripe rejects it: a 400, never a crash.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from revbridge_sandboxes.stripe.errors import StripeError

#: Most pairs one request may carry; a guard against absurd bodies.
MAX_PAIRS = 10_000
#: Deepest bracket nesting accepted (Stripe's own params nest at most ~5 levels).
MAX_DEPTH = 8

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

Tree = dict[str, Any]


def decode(raw: bytes | str) -> Tree:
    """Parse one form-encoded string into a tree of dicts, lists and strings."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if not text:
        return {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_PAIRS)
    except ValueError as exc:
        raise StripeError.invalid(f"Invalid request body: {exc}") from None
    root: Tree = {}
    for key, value in pairs:
        _insert(root, _path(key), value)
    return root


def _path(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        return [key]  # reported later as an unknown parameter, verbatim
    segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
    if len(segments) > MAX_DEPTH:
        raise StripeError.invalid(f"Parameter nesting too deep: {key}", param=match.group(1))
    return segments


def _insert(root: Tree, segments: list[str], value: str) -> None:
    node: dict[str, Any] | list[Any] = root
    name = segments[0]
    for depth, segment in enumerate(segments):
        if depth:
            name = f"{name}[{segment}]"
        nxt = segments[depth + 1] if depth + 1 < len(segments) else None
        if isinstance(node, list):
            node = _into_list(node, nxt, value, name)
            if nxt is None:
                return
            continue
        if nxt is None:
            if isinstance(node.get(segment), dict | list):
                raise StripeError.invalid(f"Invalid hash: {name}", param=name)
            node[segment] = value
            return
        child = node.get(segment)
        if child is None:
            child = [] if nxt == "" else {}
            node[segment] = child
        elif isinstance(child, str) or (isinstance(child, list) != (nxt == "")):
            kind = "array" if nxt == "" else "hash"
            raise StripeError.invalid(f"Invalid {kind}: {name}", param=name)
        node = child


def _into_list(node: list[Any], nxt: str | None, value: str, name: str) -> dict[str, Any]:
    """Handle one ``[]`` segment: append a value, or open/reuse a hash element.

    As in Rack, ``a[][x]=1&a[][y]=2`` builds one element ``{x, y}``; a repeated
    ``x`` starts the next element.
    """
    if nxt is None:
        node.append(value)
        return {}
    if nxt == "":
        raise StripeError.invalid(f"Invalid array: {name}", param=name)
    last = node[-1] if node else None
    if isinstance(last, dict) and nxt not in last:
        return last
    element: dict[str, Any] = {}
    node.append(element)
    return element
