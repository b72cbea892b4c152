"""The steps of quote-to-cash and of the receivables after it, named once: each with the
role of the system it calls and the phase of the deal it belongs to.

The workflow passes these names to its steps, the deal's timeline records them, a
connector failure takes its family from the step's role (``erp.data``), and the console
groups the timeline by phase: adding a step here is adding it everywhere.
"""

from __future__ import annotations

from enum import Enum, StrEnum

from revbridge.config.systems import Role

__all__ = ["PHASES", "Phase", "Step"]


class Phase(Enum):
    """The parts of a deal's life the console shows, in order: (system, what it holds)."""

    label: str
    what: str

    def __init__(self, label: str, what: str) -> None:
        self.label = label
        self.what = what

    CRM_READ = "CRM", "deal read"
    RULES = "Rules", "readiness"
    ERP = "ERP", "customer, order, acceptance"
    TAX = "Tax", "tax document"
    BILLING = "Billing", "customer, subscription, items"
    CRM_WRITE = "CRM", "status written back"
    RECEIVABLES = "Invoices", "invoices posted, tax committed, payments applied"


class Step(StrEnum):
    """A step of quote-to-cash as the timeline, the cases and the failure classes name it."""

    role: Role | None
    phase: Phase

    def __new__(cls, value: str, role: Role | None = None, phase: Phase | None = None) -> Step:
        assert phase is not None, f"step {value} names its phase"
        member = str.__new__(cls, value)
        member._value_ = value
        member.role = role
        member.phase = phase
        return member

    #: Read the closed-won deal (or the submitted order package).
    FETCH_DEAL = "fetch_deal", "crm", Phase.CRM_READ
    #: Run the readiness rules; calls no system.
    VALIDATE = "validate", None, Phase.RULES
    #: Create or update the ERP customer (parents first).
    UPSERT_ERP_CUSTOMER = "upsert_erp_customer", "erp", Phase.ERP
    #: Quote tax on the order.
    QUOTE_TAX = "quote_tax", "tax", Phase.TAX
    #: Submit the sales order in the legal entity's subsidiary.
    SUBMIT_SALES_ORDER = "submit_sales_order", "erp", Phase.ERP
    #: Create or find the billing customer.
    ENSURE_BILLING_CUSTOMER = "ensure_billing_customer", "billing", Phase.BILLING
    #: Start the subscription for the recurring lines.
    START_SUBSCRIPTION = "start_subscription", "billing", Phase.BILLING
    #: Add the one-off lines as invoice items.
    ADD_INVOICE_ITEMS = "add_invoice_items", "billing", Phase.BILLING
    #: Ask the ERP whether it accepted the sales order.
    CHECK_ORDER_STATE = "check_order_state", "erp", Phase.ERP
    #: Write the status and the ids back to the CRM.
    WRITE_BACK = "write_back", "crm", Phase.CRM_WRITE
    #: Compensation: cancel the subscription.
    CANCEL_SUBSCRIPTION = "cancel_subscription", "billing", Phase.BILLING
    #: Compensation: close the sales order.
    CLOSE_SALES_ORDER = "close_sales_order", "erp", Phase.ERP
    #: Compensation: void the tax document.
    VOID_TAX = "void_tax", "tax", Phase.TAX
    #: Read a posted invoice, its lines and payments from billing.
    READ_INVOICE = "read_invoice", "billing", Phase.RECEIVABLES
    #: Compare the invoice with the booked order; calls no system.
    CHECK_INVOICE = "check_invoice", None, Phase.RECEIVABLES
    #: Record (and commit, per the policy) the invoice's tax document.
    INVOICE_TAX = "invoice_tax", "tax", Phase.RECEIVABLES
    #: Post the ERP invoice from the sales order.
    POST_ERP_INVOICE = "post_erp_invoice", "erp", Phase.RECEIVABLES
    #: Apply a payment collected by billing to the ERP invoice.
    RECORD_PAYMENT = "record_payment", "erp", Phase.RECEIVABLES
    #: Show the invoice and its payment status on the deal in the CRM.
    SHOW_INVOICE = "show_invoice", "crm", Phase.RECEIVABLES
    #: A payment billing could not collect (the case's step; calls no system).
    COLLECT_PAYMENT = "collect_payment", None, Phase.RECEIVABLES
    #: Show in the CRM why the deal is held (or clear it).
    STAMP_EXCEPTION = "stamp_exception", "crm", Phase.CRM_WRITE
    #: Report a usage record to the billing meter (a usage record's own run).
    REPORT_USAGE = "report_usage", "billing", Phase.BILLING


#: The console's timeline lanes, in order: (system, what it holds, the steps in it).
PHASES: list[tuple[str, str, tuple[str, ...]]] = [
    (phase.label, phase.what, tuple(step for step in Step if step.phase is phase))
    for phase in Phase
]
