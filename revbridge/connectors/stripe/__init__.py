"""Stripe connector: the billing port on Stripe Billing's v1 API.

:class:`StripeBilling` ensures customers, starts subscriptions (licensed and metered
items), adds one-time invoice items and cancels subscriptions; :func:`build` makes one
from a policy system entry (a secret key from the environment, the pinned
``Stripe-Version``). Modules: ``client`` (form-encoded calls), ``mapping`` (canonical →
Stripe params), ``classify`` (errors) and ``adapter`` (the port and the factory).
"""

from __future__ import annotations

from revbridge.connectors.stripe.adapter import StripeBilling, build

__all__ = ["StripeBilling", "build"]
