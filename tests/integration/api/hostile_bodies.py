"""Hostile JSON bodies every route that reads JSON must refuse with a precise problem.

Each body is a Stripe-shaped event (an ``evt_`` id, a type revbridge turns into a canonical
event), so a route that let it through would store it. ``CORPUS`` maps a name to the body,
the status it must get and words its problem's ``detail`` must hold.
"""

from __future__ import annotations

DEPTH = 10_000


def _event(data: bytes) -> bytes:
    return (
        b'{"id": "evt_hostile", "object": "event", "type": "invoice.paid", "data": ' + data + b"}"
    )


CORPUS: dict[str, tuple[bytes, int, str]] = {
    "deep-array": (_event(b"[" * DEPTH + b"]" * DEPTH), 400, "nested deeper than 64 levels"),
    "deep-object": (_event(b'{"a": ' * DEPTH + b"1" + b"}" * DEPTH), 400, "nested deeper than"),
    "escaped-surrogate": (
        _event(b'{"object": {"name": "Acme \\ud800 Ltd"}}'),
        400,
        "data.object.name holds a lone surrogate \\ud800",
    ),
    "escaped-low-surrogate-in-a-key": (
        _event(b'{"object": {"\\udc00": 1}}'),
        400,
        "data.object has a key that holds a lone surrogate \\udc00",
    ),
    "raw-surrogate-bytes": (_event(b'{"name": "\xed\xa0\x80"}'), 400, "not UTF-8 (byte 0xed"),
    "invalid-utf8": (_event(b'{"name": "\xff"}'), 400, "not UTF-8 (byte 0xff"),
    "nan": (_event(b'{"amount": NaN}'), 400, "NaN is not a JSON number"),
    "nul": (
        _event(b'{"object": {"name": "Acme\\u0000"}}'),
        422,
        "data.object.name holds NUL (\\u0000)",
    ),
}
