"""The custom fields of the org revbridge integrates with, by object.

The org's admin set up, for revbridge:

- on **Account**, **Opportunity** and **Product2**, the ids and statuses revbridge keeps in
  step (``Revbridge_Id__c``, ``Integration_Status__c``, ``ERP_Order_Id__c``...). On
  Opportunity, ``Integration_Exception__c`` holds ``Exception — <reason> (<owner>)``
  while an integration exception is open (null once resolved), and ``Billing_Status__c``
  and ``Last_Payment_Date__c`` feed the account team's dunning view.
  ``Integration_Status__c`` is an unrestricted picklist: the values revbridge writes
  (``Activated``, ``Cancelled``, ``Compensated``) are in its list, and other values are
  stored as Salesforce stores unlisted values of an unrestricted picklist.
- the custom object **Billing_Invoice__c** (declared in :mod:`.objects`): one record per
  invoice billing posted for an Opportunity, its detail in a master-detail relationship
  through ``Opportunity__c`` (children ``Billing_Invoices__r``), upserted by the billing
  system's invoice id ``Billing_Invoice_Id__c``.

Add a line to :data:`CUSTOM_FIELDS` (or pass ``custom_fields={"Account": [text(...)]}`` to
``create_app``) to declare another field. ``external_id=True`` makes a field usable in
upsert and read-by-external-id paths; ``unique=True`` refuses duplicate values
(case-insensitively, as Salesforce does by default).
"""

from __future__ import annotations

from revbridge_sandboxes.salesforce.schema import (
    Field,
    checkbox,
    master_detail,
    money,
    picklist,
    text,
    typed,
)

#: The values of ``Integration_Status__c``, among them every status revbridge writes.
INTEGRATION_STATUSES = (
    "Pending",
    "In Progress",
    "Synced",
    "Activated",
    "Cancelled",
    "Compensated",
    "Failed",
)
BILLING_STATUSES = ("Not Invoiced", "Invoiced", "Paid", "Payment Failed", "Overdue")
INVOICE_STATUSES = ("Open", "Partially Paid", "Paid", "Payment Failed", "Void", "Uncollectible")


def _billing_invoice_fields() -> list[Field]:
    return [
        master_detail("Opportunity__c", "Opportunity", "Opportunity__r", label="Opportunity"),
        text(
            "Billing_Invoice_Id__c",
            80,
            external_id=True,
            unique=True,
            label="Billing Invoice Id",
        ),
        money("Amount__c", label="Amount"),
        money("Tax__c", label="Tax"),
        money("Amount_Paid__c", label="Amount Paid"),
        money("Amount_Due__c", label="Amount Due"),
        typed("Due_Date__c", "date", label="Due Date"),
        typed("Posted_Date__c", "date", label="Posted Date"),
        typed("Paid_Date__c", "date", label="Paid Date"),
        picklist("Status__c", INVOICE_STATUSES, restricted=True, label="Status"),
        text("Payment_Failure__c", 255, label="Payment Failure"),
        text("ERP_Invoice_Id__c", 80, label="ERP Invoice Id"),
        text("ERP_Payment_Id__c", 80, label="ERP Payment Id"),
    ]


#: Custom fields by object. ``external_id`` makes a field usable for upserts and reads.
CUSTOM_FIELDS: dict[str, list[Field]] = {
    "Account": [
        text("Revbridge_Id__c", 80, external_id=True, unique=True, label="Revbridge Id"),
        text("ERP_Customer_Id__c", 80, external_id=True, label="ERP Customer Id"),
        text("Tax_Id__c", 40, label="Tax Id"),
        checkbox("Tax_Exempt__c", label="Tax Exempt"),
        picklist("Payment_Terms__c", ("Due on Receipt", "Net 15", "Net 30", "Net 45", "Net 60")),
    ],
    "Opportunity": [
        text("Revbridge_Id__c", 80, external_id=True, unique=True, label="Revbridge Id"),
        picklist("Integration_Status__c", INTEGRATION_STATUSES, label="Integration Status"),
        text("ERP_Order_Id__c", 80, label="ERP Order Id"),
        text("Billing_Customer_Id__c", 80, label="Billing Customer Id"),
        text("Billing_Subscription_Id__c", 80, label="Billing Subscription Id"),
        text("Correlation_Id__c", 80, label="Correlation Id"),
        typed("Contract_Start_Date__c", "date", label="Contract Start Date"),
        typed("Contract_End_Date__c", "date", label="Contract End Date"),
        picklist("Billing_Frequency__c", ("Monthly", "Quarterly", "Annual"), restricted=True),
        checkbox("Auto_Renew__c", label="Auto Renew"),
        text("Integration_Exception__c", 255, label="Integration Exception"),
        picklist("Billing_Status__c", BILLING_STATUSES, restricted=True, label="Billing Status"),
        typed("Last_Payment_Date__c", "date", label="Last Payment Date"),
    ],
    "Product2": [
        text("Revbridge_Id__c", 80, external_id=True, unique=True, label="Revbridge Id"),
    ],
    "Billing_Invoice__c": _billing_invoice_fields(),
}
