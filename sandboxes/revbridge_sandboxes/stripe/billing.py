"""The billing cycle: what happens when sandbox time passes.

:func:`run_due` performs, in time order, the work that came due on one clock (the
global sandbox clock, or one test clock) up to a moment:

* a subscription whose period ended renews: its items move to the next period and a
  draft invoice bills the licensed items for the new period, the metered items'
  usage of the period that ended (in arrears) and the customer's pending invoice
  items — or, with ``cancel_at_period_end``/``cancel_at``, it ends instead;
* a draft with ``auto_advance`` is finalized an hour after creation, and charged
  at once when ``collection_method=charge_automatically`` (a customer with no
  payment method fails that charge: ``invoice.payment_failed``, the invoice stays open);
* an invoice finalized through the API with ``auto_advance=true`` is charged right
  after (at its ``next_payment_attempt``);
* a failed payment is retried 3, 5 and 7 days later; after the last failure the
  subscription is canceled (past due in between);
* a ``send_invoice`` invoice still open at its due date is overdue
  (``invoice.overdue``) and its subscription becomes ``past_due``;
* an ``incomplete`` subscription whose first invoice is unpaid after 23 hours
  becomes ``incomplete_expired`` and that invoice is voided.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from revbridge_sandboxes.stripe import collection, invoicing
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.meters import aggregate
from revbridge_sandboxes.stripe.prices import amount_for
from revbridge_sandboxes.stripe.state import DAY, StripeState, add_interval
from revbridge_sandboxes.stripe.tables import Record

RENEWABLE = frozenset({"active", "past_due", "trialing", "unpaid"})
ENDED = frozenset({"canceled", "incomplete_expired"})
INCOMPLETE_EXPIRY_S = 23 * 3600
#: Safety valve: more rounds than this means a bug, not a long advance.
MAX_ROUNDS = 10_000

Action = tuple[int, int, str, Record]


def items_of(state: StripeState, sub: Record) -> list[Record]:
    return [state.subscription_items.rows[i] for i in sub["_items"]]


def is_flexible(sub: Record) -> bool:
    """``billing_mode[type]=flexible``: items may bill on different intervals."""
    return (sub.get("billing_mode") or {}).get("type") == "flexible"


def period_of(state: StripeState, sub: Record) -> tuple[int, int]:
    """The subscription's current period; in flexible mode, up to the first item renewal."""
    items = items_of(state, sub)
    if is_flexible(sub) and items:
        return (
            max(i["current_period_start"] for i in items),
            min(i["current_period_end"] for i in items),
        )
    first = state.subscription_items.rows[sub["_items"][0]]
    return first["current_period_start"], first["current_period_end"]


def build_invoice(
    state: StripeState,
    sub: Record,
    at: int,
    reason: str,
    licensed: tuple[int, int] | None,
    usage: tuple[int, int] | None,
    trial: bool = False,
    item_windows: dict[str, tuple[int, int]] | None = None,
    share: tuple[int, int] | None = None,
) -> Record:
    """A draft for ``sub``: licensed lines for ``licensed``, metered usage over ``usage``.

    With ``item_windows`` (flexible billing) only those items are billed, each over its own
    window: the next period for a licensed item, the period that ended for a metered one.
    With ``share`` ``(part, whole)`` licensed lines bill that share of a full period (a
    first period that ends early at a billing cycle anchor: ``(0, 1)`` when it is free).
    """
    customer = state.customers.rows[sub["customer"]]
    invoice = invoicing.new_invoice(
        state,
        customer,
        at,
        currency=sub["currency"],
        subscription=sub,
        billing_reason=reason,
        collection_method=sub["collection_method"],
        days_until_due=sub["days_until_due"],
        auto_advance=True,
        period=usage or (at, at),
    )
    for item in items_of(state, sub):
        if item_windows is not None:
            if item["id"] not in item_windows:
                continue
            licensed = usage = item_windows[item["id"]]
        price = state.prices.rows[item["_price"]]
        product = state.products.get(price["product"]) or {"name": price["product"]}
        if (price["recurring"] or {}).get("usage_type") == "metered":
            window = usage or licensed
            if window is None:
                continue
            quantity = (
                aggregate(state, price["recurring"]["meter"], customer["id"], *window)
                if usage
                else 0
            )
            amount = amount_for(price, quantity)
        elif licensed is not None:
            window, quantity = licensed, item["quantity"] or 0
            amount = 0 if trial else amount_for(price, quantity)
            if share is not None:
                amount = (amount * share[0] * 2 + share[1]) // (share[1] * 2)  # half up
        else:
            continue
        invoice["_sub_lines"].append(
            invoicing.subscription_line(
                invoice, sub, item, price, product["name"], quantity, amount, window, trial
            )
        )
    for pending in list(state.invoiceitems.rows.values()):
        owner = ((pending.get("parent") or {}).get("subscription_details") or {}).get(
            "subscription"
        )
        if (
            pending["customer"] == customer["id"]
            and pending["invoice"] is None
            and owner in (None, sub["id"])
        ):
            invoicing.attach_item(state, invoice, pending)
    sub["latest_invoice"] = invoice["id"]
    sub["_invoices"].append(invoice["id"])
    return invoice


def renew(state: StripeState, sub: Record, at: int) -> None:
    """The period ended at ``at``: start the next one and invoice it (or end the sub)."""
    start, end = period_of(state, sub)
    cancel_at = sub.get("cancel_at")
    if sub["cancel_at_period_end"] or (cancel_at is not None and cancel_at <= end):
        cancel(state, sub, at, invoice_now=True, finalize_now=False)
        return
    if is_flexible(sub):
        _renew_due_items(state, sub, at)
        return
    before = state.before(sub)
    price = state.prices.rows[items_of(state, sub)[0]["_price"]]
    recurring = price["recurring"]
    next_end = add_interval(
        end, recurring["interval"], recurring["interval_count"], sub["_anchor_day"]
    )
    for item in items_of(state, sub):
        item["current_period_start"], item["current_period_end"] = end, next_end
    if sub["status"] == "trialing":
        sub["status"] = "active"
    invoice = build_invoice(state, sub, at, "subscription_cycle", (end, next_end), (start, end))
    state.emit_update("customer.subscription.updated", sub, before, at=at)
    invoicing.open_draft(state, invoice, at)
    state.schedule(next_end, sub["test_clock"])


def _renew_due_items(state: StripeState, sub: Record, at: int) -> None:
    """Flexible billing: renew only the items whose own period ended at ``at``."""
    before = state.before(sub)
    windows: dict[str, tuple[int, int]] = {}
    for item in items_of(state, sub):
        if item["current_period_end"] > at:
            continue
        recurring = state.prices.rows[item["_price"]]["recurring"]
        start, end = item["current_period_start"], item["current_period_end"]
        next_end = add_interval(
            end, recurring["interval"], recurring["interval_count"], sub["_anchor_day"]
        )
        metered = recurring.get("usage_type") == "metered"
        windows[item["id"]] = (start, end) if metered else (end, next_end)
        item["current_period_start"], item["current_period_end"] = end, next_end
    if sub["status"] == "trialing":
        sub["status"] = "active"
    invoice = build_invoice(state, sub, at, "subscription_cycle", None, None, item_windows=windows)
    state.emit_update("customer.subscription.updated", sub, before, at=at)
    invoicing.open_draft(state, invoice, at)
    state.schedule(period_of(state, sub)[1], sub["test_clock"])


def cancel(
    state: StripeState, sub: Record, at: int, invoice_now: bool = False, finalize_now: bool = True
) -> None:
    """End ``sub`` at ``at``; with ``invoice_now`` bill the metered usage so far."""
    start, _ = period_of(state, sub)
    has_metered = any(
        (state.prices.rows[i["_price"]]["recurring"] or {}).get("usage_type") == "metered"
        for i in items_of(state, sub)
    )
    if invoice_now and has_metered and at > start:
        invoice = build_invoice(state, sub, at, "subscription_cycle", None, (start, at))
        invoicing.open_draft(state, invoice, at)
        if finalize_now:
            _finalize_and_collect(state, invoice, at)
    invoicing.end_subscription(state, sub, at)


def first_share(
    params: dict[str, Any], price: Record, period: tuple[int, int], trial: bool
) -> tuple[int, int] | None:
    """How much of a full period the first one bills when it ends early at a future
    ``billing_cycle_anchor``: nothing with ``proration_behavior=none`` (the time up to the
    anchor is free), else its share in seconds (Stripe prorates by the second); None when
    the first period is a full one (or a trial)."""
    anchor = params.get("billing_cycle_anchor")
    if trial or anchor is None or anchor != period[1]:
        return None
    if params.get("proration_behavior") == "none":
        return 0, 1
    recurring = price["recurring"]
    full = add_interval(period[0], recurring["interval"], recurring["interval_count"])
    return period[1] - period[0], max(1, full - period[0])


def first_period(params: dict[str, Any], price: Record, at: int) -> tuple[tuple[int, int], bool]:
    """The first period (and whether it is a trial) of a subscription being created."""
    recurring = price["recurring"]
    trial_end = params.get("trial_end")
    if trial_end == "now":
        trial_end = None
    days = params.get("trial_period_days")
    if days is None and params.get("trial_from_plan"):
        days = recurring.get("trial_period_days")
    if trial_end is None and days:
        trial_end = at + days * DAY
    if trial_end is not None:
        if trial_end <= at:
            raise StripeError.invalid("Invalid timestamp: must be in the future", param="trial_end")
        return (at, int(trial_end)), True
    anchor = params.get("billing_cycle_anchor")
    if anchor is not None and anchor > at:
        return (at, anchor), False
    return (at, add_interval(at, recurring["interval"], recurring["interval_count"])), False


def restart_period(state: StripeState, sub: Record, at: int) -> None:
    """``billing_cycle_anchor=now`` / ``trial_end=now``: a new period starts and is billed."""
    start, _ = period_of(state, sub)
    price = state.prices.rows[items_of(state, sub)[0]["_price"]]
    recurring = price["recurring"]
    end = add_interval(at, recurring["interval"], recurring["interval_count"])
    for item in items_of(state, sub):
        item["current_period_start"], item["current_period_end"] = at, end
    sub["billing_cycle_anchor"] = at
    sub["_anchor_day"] = datetime.fromtimestamp(at, UTC).day
    if sub["status"] == "trialing":
        sub["status"], sub["trial_end"] = "active", at
    invoice = build_invoice(state, sub, at, "subscription_update", (at, end), (start, at))
    invoicing.open_draft(state, invoice, at)
    _finalize_and_collect(state, invoice, at)
    state.schedule(end, sub["test_clock"])


def run_due(state: StripeState, clock_id: str | None, until: int) -> None:
    """Do all work due on ``clock_id`` (None: the global clock) up to ``until``."""
    for _ in range(MAX_ROUNDS):
        actions = sorted(_collect(state, clock_id, until), key=lambda a: (a[0], a[1]))
        if not actions:
            break
        for at, _order, kind, record in actions:
            _STEPS[kind](state, record, at)
    if clock_id is None:
        upcoming = [a[0] for a in _collect(state, None, None)]
        state.next_due = min(upcoming) if upcoming else None


def _collect(state: StripeState, clock_id: str | None, until: int | None) -> list[Action]:
    """Work due on a clock by ``until`` (everything scheduled when ``until`` is None)."""
    found: list[Action] = []

    def due(at: int | None, order: int, kind: str, record: Record) -> None:
        if at is not None and (until is None or at <= until):
            found.append((at, order, kind, record))

    for sub in state.subscriptions.rows.values():
        if sub["test_clock"] != clock_id:
            continue
        if sub["status"] in RENEWABLE:
            end = period_of(state, sub)[1]
            cancel_at = sub.get("cancel_at")
            if cancel_at is not None and cancel_at < end:
                due(cancel_at, 0, "end", sub)
            else:
                due(end, 0, "renew", sub)
        elif sub["status"] == "incomplete":
            due(sub["created"] + INCOMPLETE_EXPIRY_S, 0, "expire", sub)
    for invoice in state.invoices.rows.values():
        if invoice["test_clock"] != clock_id or invoice["status"] in ("paid", "void"):
            continue
        if invoice["status"] == "draft" and invoice["auto_advance"]:
            due(invoice["automatically_finalizes_at"], 1, "finalize", invoice)
        elif invoice["status"] == "open" and invoice["collection_method"] == "send_invoice":
            if not invoice.get("_overdue"):
                due(invoice["due_date"], 2, "overdue", invoice)
        elif invoice["status"] == "open" and invoice["auto_advance"]:
            due(invoice["next_payment_attempt"], 2, "retry", invoice)
    return found


def _renew(state: StripeState, sub: Record, at: int) -> None:
    if sub["status"] in RENEWABLE and period_of(state, sub)[1] == at:
        renew(state, sub, at)


def _end(state: StripeState, sub: Record, at: int) -> None:
    if sub["status"] in RENEWABLE:
        cancel(state, sub, at, invoice_now=True, finalize_now=False)


def _expire(state: StripeState, sub: Record, at: int) -> None:
    if sub["status"] != "incomplete":
        return
    for invoice in invoicing.open_invoices(state, sub):
        if invoice["status"] == "open":
            collection.void(state, invoice, at)
    invoicing.set_status(state, sub, "incomplete_expired", at)
    sub["ended_at"] = at


def _finalize(state: StripeState, invoice: Record, at: int) -> None:
    if invoice["status"] == "draft" and invoice["auto_advance"]:
        _finalize_and_collect(state, invoice, at)


def _finalize_and_collect(state: StripeState, invoice: Record, at: int) -> None:
    """Automatic advancement: finalize, and charge at once when Stripe collects it."""
    collection.finalize(state, invoice, at)
    if collection.collects(invoice):
        collection.attempt(state, invoice, at)


def _retry(state: StripeState, invoice: Record, at: int) -> None:
    if collection.collects(invoice) and invoice["next_payment_attempt"] == at:
        collection.attempt(state, invoice, at)


def _overdue(state: StripeState, invoice: Record, at: int) -> None:
    if invoice["status"] != "open" or invoice.get("_overdue"):
        return
    invoice["_overdue"] = True
    state.emit("invoice.overdue", invoice, at=at)
    sub = invoicing.subscription_of(state, invoice)
    if sub is not None and sub["status"] == "active":
        invoicing.set_status(state, sub, "past_due", at)


_STEPS: dict[str, Callable[[StripeState, Record, int], Any]] = {
    "renew": _renew,
    "end": _end,
    "expire": _expire,
    "finalize": _finalize,
    "retry": _retry,
    "overdue": _overdue,
}
