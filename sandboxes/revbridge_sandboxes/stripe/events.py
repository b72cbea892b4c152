"""``/v1/events`` and webhook delivery with Stripe's signature.

Every change emits an event (see :meth:`StripeState.emit`); each enabled webhook
endpoint listening for its type gets it ``POST``-ed as JSON with
``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``, the
timestamp taken from the sandbox clock when the delivery is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.params import Arr, Bool, Str, spec
from revbridge_sandboxes.stripe.state import Outbound
from revbridge_sandboxes.stripe.tables import Record
from revbridge_sandboxes.webhooks import WebhookSender

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
LIST = spec(
    {"delivery_success": Bool(), "type": Str(), "types": Arr(Str(), max_items=20)}, listing=True
)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(sender: WebhookSender, outbox: list[Outbound]) -> None:
    """Hand queued deliveries to the sender; headers are signed at send time, with the
    wall clock: a signature dates the delivery, not the (possibly advanced) billing clock
    the event happened at, so receivers' replay windows hold as with Stripe's own."""
    for item in outbox:

        def headers(body: bytes, secret: str = item.secret) -> dict[str, str]:
            return {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Cache-Control": "no-cache",
                "Stripe-Signature": sign(secret, body, int(time.time())),
            }

        sender.enqueue(item.url, item.body, headers)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.events.require(call.arg("id")))


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    wanted = list(params.get("types") or []) + ([params["type"]] if params.get("type") else [])
    tests = [_type_test(t) for t in wanted]

    def match(event: Record) -> bool:
        return any(test(event["type"]) for test in tests)

    return page(call, call.state.events, "/v1/events", match if tests else None)


def _type_test(pattern: str) -> Callable[[str], bool]:
    """``invoice.*`` matches every invoice event, as on Stripe."""
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return lambda t: t.startswith(prefix)
    return lambda t: t == pattern


ROUTES: Routes = {
    "/v1/events": {"GET": Endpoint(LIST, listing)},
    "/v1/events/{id}": {"GET": Endpoint(spec({}), retrieve)},
}
