"""The invariants a chaos run must leave intact, as pure functions of the :class:`Evidence`.

Each returns a :class:`Check`: what it says, how many things it looked at, and one line per
violation. A deal is *activated* when revbridge's deal row says so, *held* when it waits on
an open exception case. Objects in the systems are tied to deals by the ids revbridge gives
them (external ids, metadata, document codes), never by position or name; an object tied to
no deal or account at all is itself a violation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from revbridge.cases.model import CaseState
from revbridge.chaos.evidence import Evidence, Record
from revbridge.connectors.avalara.mapping import document_code
from revbridge.connectors.salesforce.mapping import customer_id, order_id

SHOWN = 10  # violations listed per invariant; the count covers them all


@dataclass
class Check:
    name: str
    checked: int
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def deal_key(opportunity: str) -> str:
    return f"salesforce:{opportunity}"


def _open_cases(ev: Evidence, opportunity: str) -> int:
    return sum(c.state == CaseState.OPEN for c in ev.cases.get(deal_key(opportunity), []))


def activated(ev: Evidence) -> list[str]:
    """Closed opportunities whose deal is activated."""
    found = [ev.deals.get(deal_key(o)) for o in ev.closed]
    return [d.deal_key.split(":", 1)[1] for d in found if d and d.status.value == "activated"]


def _held(ev: Evidence, opportunity: str) -> bool:
    deal = ev.deals.get(deal_key(opportunity))
    return (
        deal is not None and deal.status.value == "exception" and _open_cases(ev, opportunity) == 1
    )


def settled(ev: Evidence) -> Check:
    check = Check("every deal settled: activated, or holding exactly one open case", len(ev.closed))
    for opportunity in ev.closed:
        deal = ev.deals.get(deal_key(opportunity))
        open_cases = _open_cases(ev, opportunity)
        if deal is None:
            check.violations.append(f"{opportunity}: never received")
        elif not ((deal.status.value == "activated" and open_cases == 0) or _held(ev, opportunity)):
            check.violations.append(
                f"{opportunity}: status {deal.status.value}, stage {deal.stage.value}, "
                f"{open_cases} open case(s)"
            )
    strangers = set(ev.deals) - {deal_key(o) for o in ev.closed}
    check.violations += [f"{key}: a deal nobody closed" for key in sorted(strangers)]
    return check


def inbox_once(ev: Evidence) -> Check:
    check = Check("each close recorded once in the inbox", len(ev.closed))
    for opportunity in ev.closed:
        rows = ev.inbox_rows.get(f"deal:{deal_key(opportunity)}", 0)
        if rows != 1:
            check.violations.append(f"{opportunity}: {rows} inbox rows for one close")
    return check


def _chain(ev: Evidence, account: str | None) -> list[str]:
    """The account and its parents, nearest first."""
    chain: list[str] = []
    while account and account not in chain and account in ev.accounts:
        chain.append(account)
        account = ev.accounts[account].get("ParentId")
    return chain


def _tally(
    check: Check, objects: list[Record], owner: Callable[[Record], str | None], what: str
) -> Counter[str]:
    """Count objects by the deal or account they belong to; orphans are violations."""
    counts: Counter[str] = Counter()
    for record in objects:
        found = owner(record)
        if found is None:
            check.violations.append(f"{what} {record.get('id')} belongs to no deal or account")
        else:
            counts[found] += 1
    return counts


def _exactly(check: Check, counts: Counter[str], must: set[str], what: str) -> None:
    for key in sorted(must | set(counts)):
        n = counts.get(key, 0)
        if n > 1 or (key in must and n != 1):
            check.violations.append(f"{key}: {n} {what}")


def erp_customers(ev: Evidence) -> Check:
    by_id = {customer_id(a): a for a in ev.accounts}
    chains = {a for o in activated(ev) for a in _chain(ev, ev.opportunities[o].get("AccountId"))}
    everyone = {a for o in ev.closed for a in _chain(ev, ev.opportunities[o].get("AccountId"))}
    check = Check("one ERP customer per account", len(everyone))

    def owner(record: Record) -> str | None:
        if str(record.get("externalId") or "").startswith("legacy-"):
            return "legacy"  # seeded before the run (the duplicate-name defect)
        return by_id.get(str(record.get("externalId"))) or by_id.get(str(record.get("entityId")))

    counts = _tally(check, ev.erp_customers, owner, "ERP customer")
    counts.pop("legacy", None)
    _exactly(check, counts, chains, "ERP customers")
    return check


def _order_owner(ev: Evidence) -> Callable[[Record], str | None]:
    by_order = {order_id(o): o for o in ev.closed}
    return lambda record: by_order.get(str(record.get("externalId")))


def sales_orders(ev: Evidence) -> Check:
    check = Check("one sales order per won deal", len(ev.closed))
    counts = _tally(check, ev.erp_orders, _order_owner(ev), "sales order")
    _exactly(check, counts, set(activated(ev)), "sales orders")
    return check


def _meta(record: Record, key: str) -> str | None:
    value = (record.get("metadata") or {}).get(key)
    return None if value is None else str(value)


def subscriptions(ev: Evidence) -> Check:
    check = Check("one subscription per order", len(ev.closed))
    by_order = {order_id(o): o for o in ev.closed}
    counts = _tally(
        check,
        ev.subscriptions,
        lambda r: by_order.get(_meta(r, "revbridge_order_id") or ""),
        "subscription",
    )
    _exactly(check, counts, set(activated(ev)), "subscriptions")
    return check


def billing_objects(ev: Evidence) -> Check:
    check = Check(
        "one billing customer per account, one invoice item per line",
        len(ev.billing_customers) + len(ev.invoice_items),
    )
    by_id = {customer_id(a): a for a in ev.accounts}
    customers = _tally(
        check,
        ev.billing_customers,
        lambda r: by_id.get(_meta(r, "revbridge_customer_id") or ""),
        "billing customer",
    )
    must = {ev.opportunities[o]["AccountId"] for o in activated(ev)}
    _exactly(check, customers, must, "billing customers")
    lines = _tally(
        check,
        ev.invoice_items,
        lambda r: _meta(r, "revbridge_line_id") and f"line {_meta(r, 'revbridge_line_id')}",
        "invoice item",
    )
    _exactly(check, lines, set(), "invoice items")
    return check


def amounts(ev: Evidence) -> Check:
    won = activated(ev)
    check = Check("amounts and tax equal the deal (Decimal)", len(won))
    orders = {order_id(o): o for o in won}
    by_order = {orders[r["externalId"]]: r for r in ev.erp_orders if r.get("externalId") in orders}
    documents = {r["code"]: r for r in ev.tax_documents}
    for opportunity in won:
        amount = Decimal(str(ev.opportunities[opportunity]["Amount"]))
        order = by_order.get(opportunity)
        document = documents.get(document_code(order_id(opportunity)))
        if order is None or document is None:
            check.violations.append(f"{opportunity}: sales order or tax document missing")
            continue
        tax = Decimal(document["totalTax"])
        expected = {
            "order subtotal": (Decimal(order["subtotal"]), amount),
            "tax document amount": (Decimal(document["totalAmount"]), amount),
            "order tax": (Decimal(order["taxTotal"]), tax),
            "order total": (Decimal(order["total"]), amount + tax),
        }
        for what, (got, want) in expected.items():
            if got != want:
                check.violations.append(f"{opportunity}: {what} {got} != {want}")
    return check


def crm_write_back(ev: Evidence) -> Check:
    won = activated(ev)
    check = Check("the CRM shows what was booked", len(won))
    owner = _order_owner(ev)
    orders = {owner(r): r for r in ev.erp_orders}
    subs = {_meta(s, "revbridge_order_id"): s for s in ev.subscriptions}
    for opportunity in won:
        record = ev.opportunities[opportunity]
        order, sub = orders.get(opportunity), subs.get(order_id(opportunity))
        shown = (
            record.get("Integration_Status__c"),
            record.get("ERP_Order_Id__c"),
            record.get("Billing_Subscription_Id__c"),
        )
        booked = ("Activated", order and order["id"], sub and sub["id"])
        if shown != booked:
            check.violations.append(f"{opportunity}: CRM shows {shown}, booked {booked}")
    return check


def defects_held(ev: Evidence) -> Check:
    defective = {o: d for o, d in ev.closed.items() if d is not None}
    check = Check("every seeded defect holds a case", len(defective))
    for opportunity, defect in defective.items():
        if not _held(ev, opportunity):
            deal = ev.deals.get(deal_key(opportunity))
            status = deal.status.value if deal else "not received"
            check.violations.append(f"{opportunity} ({defect}): {status}, no open case")
    return check


def workflows(ev: Evidence) -> Check:
    check = Check("no workflow stuck or failed without a case", len(ev.workflows))
    by_workflow = {d.workflow_id: d for d in ev.deals.values()}
    for workflow_id, status in sorted(ev.workflows.items()):
        deal = by_workflow.get(workflow_id)
        opportunity = deal.deal_key.split(":", 1)[1] if deal else None
        held = opportunity is not None and _held(ev, opportunity)
        if deal is not None and deal.status.value == "activated" and status != "SUCCESS":
            check.violations.append(f"{workflow_id}: {status} although the deal is activated")
        elif status in ("PENDING", "ENQUEUED", "ERROR") and not held:
            check.violations.append(f"{workflow_id}: {status} and no open case")
    for deal in ev.deals.values():
        if deal.workflow_id not in ev.workflows:
            check.violations.append(f"{deal.deal_key}: no workflow {deal.workflow_id}")
    return check


def audit_chain(ev: Evidence) -> Check:
    check = Check("audit chain valid", ev.audit.rows)
    if not ev.audit.ok:
        check.violations.append(str(ev.audit))
    return check


INVARIANTS = (
    settled,
    inbox_once,
    erp_customers,
    sales_orders,
    subscriptions,
    billing_objects,
    amounts,
    crm_write_back,
    defects_held,
    workflows,
    audit_chain,
)


def check_all(ev: Evidence) -> list[Check]:
    """Every invariant, in the order they are reported."""
    return [invariant(ev) for invariant in INVARIANTS]
