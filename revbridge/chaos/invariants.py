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
from revbridge.chaos.evidence import Evidence, Record, invoice_correlation, owed
from revbridge.connectors.avalara.mapping import document_code, invoice_document_code
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


def _invoice_held(ev: Evidence, workflow_id: str) -> bool:
    """A receivables run (``receivables:<system>:<invoice>:<phase>``) held by an open case
    of its invoice, or waiting for its deal, which holds a case."""
    invoice_key = workflow_id.split(":", 1)[1].rsplit(":", 1)[0]
    if any(c.state == CaseState.OPEN for c in ev.cases.get(invoice_key, [])):
        return True
    billed = next((i for i in ev.billing_invoices if f"stripe:{i['id']}" == invoice_key), None)
    correlation = invoice_correlation(billed) if billed is not None else None
    deal = next((d for d in ev.deals.values() if d.correlation_id == correlation), None)
    return deal is not None and _held(ev, deal.deal_key.split(":", 1)[1])


def workflows(ev: Evidence) -> Check:
    check = Check("no workflow stuck or failed without a case", len(ev.workflows))
    by_workflow = {d.workflow_id: d for d in ev.deals.values()}
    for workflow_id, status in sorted(ev.workflows.items()):
        deal = by_workflow.get(workflow_id)
        opportunity = deal.deal_key.split(":", 1)[1] if deal else None
        held = opportunity is not None and _held(ev, opportunity)
        if workflow_id.startswith("receivables:"):
            held = _invoice_held(ev, workflow_id)
        if deal is not None and deal.status.value == "activated" and status != "SUCCESS":
            check.violations.append(f"{workflow_id}: {status} although the deal is activated")
        elif status in ("PENDING", "ENQUEUED", "ERROR") and not held:
            check.violations.append(f"{workflow_id}: {status} and no open case")
    for deal in ev.deals.values():
        if deal.workflow_id not in ev.workflows:
            check.violations.append(f"{deal.deal_key}: no workflow {deal.workflow_id}")
    return check


def _billed_for_deals(ev: Evidence) -> list[Record]:
    """Invoices with something owed that billing issued for revbridge's activated deals."""
    activated_correlations = {
        d.correlation_id for d in ev.deals.values() if d.status.value == "activated"
    }
    return [
        i
        for i in ev.billing_invoices
        if owed(i) and invoice_correlation(i) in activated_correlations
    ]


def _invoice_case(ev: Evidence, invoice_id: str) -> bool:
    return any(c.state == CaseState.OPEN for c in ev.cases.get(f"stripe:{invoice_id}", []))


def _cents(minor_units: Decimal) -> Decimal:
    return Decimal(minor_units) / 100


def erp_invoices(ev: Evidence) -> Check:
    """Each billing invoice: one ERP invoice and one committed tax document, amounts equal."""
    billed = _billed_for_deals(ev)
    check = Check(
        "each billing invoice has one ERP invoice and one committed tax document with equal "
        "amounts",
        len(billed),
    )
    erp = Counter(str(i.get("externalId")) for i in ev.erp_invoices)
    by_id = {str(i.get("externalId")): i for i in ev.erp_invoices}
    documents = Counter(str(d.get("code")) for d in ev.tax_documents)
    by_code = {str(d.get("code")): d for d in ev.tax_documents}
    for invoice in billed:
        if _invoice_case(ev, invoice["id"]):
            continue
        total = _cents(invoice["total"])
        tax = total - _cents(invoice.get("total_excluding_tax") or invoice["total"])
        code = invoice_document_code(invoice["id"])
        problems = []
        if erp[invoice["id"]] != 1:
            problems.append(f"{erp[invoice['id']]} ERP invoices")
        elif Decimal(by_id[invoice["id"]]["total"]) != total:
            problems.append(f"ERP total {by_id[invoice['id']]['total']} ≠ {total}")
        if documents[code] != 1:
            problems.append(f"{documents[code]} tax documents")
        elif by_code[code].get("status") != "Committed":
            problems.append(f"tax document {by_code[code].get('status')}")
        elif Decimal(by_code[code]["totalTax"]) != tax:
            problems.append(f"tax {by_code[code]['totalTax']} ≠ {tax}")
        if problems:
            check.violations.append(f"{invoice['id']}: " + ", ".join(problems))
    orphans = set(erp) - {i["id"] for i in ev.billing_invoices}
    check.violations += [f"ERP invoice {o}: no billing invoice" for o in sorted(orphans)]
    return check


def erp_payments(ev: Evidence) -> Check:
    """Each paid invoice: one ERP payment, of the amount paid, applied to its ERP invoice."""
    paid = [i for i in _billed_for_deals(ev) if i["status"] == "paid" and i["amount_paid"]]
    check = Check("each paid invoice has one ERP payment", len(paid))
    erp = {str(i.get("externalId")): str(i["id"]) for i in ev.erp_invoices}
    applied: dict[str, list[Decimal]] = {}
    for payment in ev.erp_payments:
        lines = payment.get("apply") or []
        for line in lines.get("items", []) if isinstance(lines, dict) else lines:
            applied.setdefault(str(line["doc"]["id"]), []).append(Decimal(line["amount"]))
    for invoice in paid:
        if _invoice_case(ev, invoice["id"]):
            continue
        amounts = applied.get(erp.get(invoice["id"], ""), [])
        if amounts != [_cents(invoice["amount_paid"])]:
            check.violations.append(
                f"{invoice['id']}: ERP payments {amounts}, paid {_cents(invoice['amount_paid'])}"
            )
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
    erp_invoices,
    erp_payments,
    workflows,
    audit_chain,
)


def check_all(ev: Evidence) -> list[Check]:
    """Every invariant, in the order they are reported."""
    return [invariant(ev) for invariant in INVARIANTS]
