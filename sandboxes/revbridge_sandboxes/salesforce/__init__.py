"""Salesforce sandbox: a local emulator of the Salesforce REST API, OAuth and Change Data Capture.

It emulates, over real HTTP: the OAuth 2.0 token endpoint (password and client-credentials
grants); sObject CRUD, describe, read and upsert by external id for Account, Contact,
Opportunity, OpportunityLineItem, Product2, Pricebook2, PricebookEntry, Contract and Order
and for the org's custom object Billing_Invoice__c (the invoices billing posted for an
Opportunity: master-detail to it, upserted by ``Billing_Invoice_Id__c``), with
Salesforce's ids, field types and error bodies; the custom fields revbridge writes (see
:mod:`.custom_fields`); SOQL queries with pagination; sObject Collections; the daily API
allocation with ``Sforce-Limit-Info``; and Change Data Capture events for Account,
Opportunity and OpportunityLineItem by default (any object, custom ones on their
``/data/<Name>__ChangeEvent`` channel, through ``cdc_entities``), pulled over a
Bayeux/CometD endpoint or pushed to signed webhooks (a sandbox convenience). See
``create_app`` for the options and :mod:`.sandbox_routes` for the sandbox-only control
routes.
"""

from revbridge_sandboxes.salesforce.app import DEFAULT_PORT, create_app

__all__ = ["DEFAULT_PORT", "create_app"]
