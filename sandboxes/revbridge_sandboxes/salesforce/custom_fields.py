"""The custom fields of the org revbridge integrates with, by object.

Add a line to :data:`CUSTOM_FIELDS` (or pass ``custom_fields={"Account": [text(...)]}`` to
``create_app``) to declare another field. ``external_id=True`` makes a field usable in
upsert and read-by-external-id paths; ``unique=True`` refuses duplicate values
(case-insensitively, as Salesforce does by default).
"""

from __future__ import annotations

from revbridge_sandboxes.salesforce.schema import Field, checkbox, picklist, text, typed

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
        picklist("Integration_Status__c", ("Pending", "In Progress", "Synced", "Failed")),
        text("ERP_Order_Id__c", 80, label="ERP Order Id"),
        text("Billing_Customer_Id__c", 80, label="Billing Customer Id"),
        text("Billing_Subscription_Id__c", 80, label="Billing Subscription Id"),
        text("Correlation_Id__c", 80, label="Correlation Id"),
        typed("Contract_Start_Date__c", "date", label="Contract Start Date"),
        typed("Contract_End_Date__c", "date", label="Contract End Date"),
        picklist("Billing_Frequency__c", ("Monthly", "Quarterly", "Annual"), restricted=True),
        checkbox("Auto_Renew__c", label="Auto Renew"),
    ],
    "Product2": [
        text("Revbridge_Id__c", 80, external_id=True, unique=True, label="Revbridge Id"),
    ],
}
