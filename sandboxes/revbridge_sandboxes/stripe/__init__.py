"""Stripe sandbox: a local emulator of Stripe's v1 Billing API in test mode.

It speaks what the official SDKs speak: ``/v1/...`` with ``Authorization: Bearer
sk_test_…``, form-encoded bodies with bracket notation, Stripe's error bodies,
cursor-paginated lists, ``Idempotency-Key`` replay semantics, ``Stripe-Version``,
the per-account rate limit, signed webhooks (``Stripe-Signature``) and test clocks.
Objects: customers, products, prices (one-time, recurring, metered, tiered),
subscriptions and their items, invoice items, invoices and their lines, invoice
payments, payment intents, payment methods (Stripe's test cards), tax rates, billing
meters and meter events, events, webhook endpoints and test clocks.

Tax comes from manual tax rates (``txr_…``, not Stripe Tax): ``tax_rates[]`` on
subscription items, invoice items and invoice lines, ``default_tax_rates[]`` on
subscriptions and invoices, the line's own rates replacing the defaults. Each invoice
line shows its ``taxes`` and the invoice its ``total_taxes``; ``total`` is the subtotal
plus exclusive tax (inclusive tax is inside the amounts) and is what ``amount_due``,
the InvoicePayment and the charge collect. Tax is computed per line and per rate and
rounded half up to the minor unit (see :mod:`.taxes`). Invoices are rendered in the
current API's shape only (``taxes``/``total_taxes``, not the older ``tax_amounts``/``tax``),
whatever ``Stripe-Version`` the client sends.

Invoices follow Stripe's documented status transitions (see :mod:`.collection`):
finalizing makes a draft ``open`` and never pays it by itself (only a zero-amount
invoice is paid at once); ``paid`` comes from a successful ``/pay``, automatic
collection or attached payments (``/attach_payment``, partial payments), each
recorded as a paid InvoicePayment; a failed charge leaves the invoice ``open``
(``invoice.payment_failed``, one more ``attempt_count``, a retry scheduled); ``void``
and ``uncollectible`` come from their endpoints; ``paid`` and ``void`` are terminal.
A charge needs a payment method (``pm_card_visa``, ``tok_visa``, … as the invoice's,
subscription's or customer's default, or given to ``/pay``); the ``pm_card_chargeDeclined…``
methods decline, and ``metadata[sandbox_payment]=succeed|fail`` on a customer overrides all.

Sandbox time advances with ``POST /_sandbox/clock/advance`` (and test clocks with their
``advance``), which renews subscriptions and finalizes, charges, retries and dues
invoices as Stripe would.
"""

from __future__ import annotations

from revbridge_sandboxes.stripe.app import DEFAULT_API_KEY, DEFAULT_PORT, create_app

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PORT", "create_app"]
