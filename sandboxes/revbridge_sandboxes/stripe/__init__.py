"""Stripe sandbox: a local emulator of Stripe's v1 Billing API in test mode.

It speaks what the official SDKs speak: ``/v1/...`` with ``Authorization: Bearer
sk_test_…``, form-encoded bodies with bracket notation, Stripe's error bodies,
cursor-paginated lists, ``Idempotency-Key`` replay semantics, ``Stripe-Version``,
the per-account rate limit, signed webhooks (``Stripe-Signature``) and test clocks.
Objects: customers, products, prices (one-time, recurring, metered, tiered),
subscriptions and their items, invoice items, invoices (draft → open → paid/void),
billing meters and meter events, events, webhook endpoints and test clocks.
Sandbox time advances with ``POST /_sandbox/clock/advance``, which renews
subscriptions and finalizes, charges and dues invoices as Stripe would.
"""

from __future__ import annotations

from revbridge_sandboxes.stripe.app import DEFAULT_API_KEY, DEFAULT_PORT, create_app

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PORT", "create_app"]
