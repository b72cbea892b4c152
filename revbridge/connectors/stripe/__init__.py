"""Stripe connector: the billing port on Stripe Billing's v1 API.

:class:`StripeBilling` ensures customers, starts subscriptions (licensed and metered
items), adds one-time invoice items and cancels subscriptions; :func:`build` makes one
from a policy system entry (a secret key from the environment, the pinned
``Stripe-Version``). :class:`StripeEvents` (``events.py``) reads Stripe's webhook events:
it checks ``Stripe-Signature`` and turns invoice events into canonical ones;
:func:`build_events` makes it from the entry's ``webhook_secret``. Modules: ``client``
(form-encoded calls), ``mapping`` (canonical → Stripe params), ``classify`` (errors),
``events`` (webhooks) and ``adapter`` (the port and the factory).
"""

from __future__ import annotations

from revbridge.connectors.stripe.adapter import StripeBilling, build
from revbridge.connectors.stripe.events import StripeEvents, build_events

__all__ = ["StripeBilling", "StripeEvents", "build", "build_events"]
