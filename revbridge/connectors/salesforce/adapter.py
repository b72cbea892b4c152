"""SalesforceCrm: the CRM port on Salesforce, and ``build`` from the policy.

Reading a deal costs three SOQL queries whatever its size (the opportunity with its
account, its line items with their products, the account's parent chain), the first two
in parallel; writing the status back costs one all-or-none sObject Collections update of
the opportunity and, when an ERP customer is known, its account. Updates set fields to
values, so a retried or repeated write-back leaves the same record.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from revbridge.canonical import ExternalRef
from revbridge.config.systems import SalesforceSystem
from revbridge.connectors.builder import http_caller, read_credentials
from revbridge.connectors.http import HttpCaller
from revbridge.connectors.salesforce import mapping
from revbridge.connectors.salesforce.changes import closed_won_changes, verify_push
from revbridge.connectors.salesforce.classify import classify
from revbridge.connectors.salesforce.client import OAuthSession, SalesforceClient
from revbridge.connectors.salesforce.streaming import SalesforceChangeFeed
from revbridge.errors import AuthError, DataError, NotFoundError
from revbridge.ports import ClosedWonChange, DealPackage, DealStatus, InvoiceView

OPPORTUNITY_CHANNEL = "/data/OpportunityChangeEvent"


class SalesforceCrm:
    """Reads closed deals from Salesforce and writes the integration status back."""

    def __init__(
        self,
        system: str,
        client: SalesforceClient,
        status_field: str = "Integration_Status__c",
        push_secret: str | None = None,
    ) -> None:
        self.system = system
        self.client = client
        self.status_field = status_field
        self.push_secret = push_secret
        #: Opportunity id → its account id, learnt while reading deals.
        self._accounts: dict[str, str] = {}

    @property
    def http(self) -> HttpCaller:
        """The caller every request of this adapter goes through (``ports.CallsOut``)."""
        return self.client.http

    async def fetch_deal(self, deal: ExternalRef) -> DealPackage:
        # both reads run to the end before an error is raised: no call is left behind
        opportunity, items = await asyncio.gather(
            self.client.opportunity(deal.id),
            self.client.line_items(deal.id),
            return_exceptions=True,
        )
        if isinstance(opportunity, BaseException):
            raise opportunity
        if isinstance(items, BaseException):
            raise items
        if opportunity is None:
            raise NotFoundError(
                f"{self.system}: opportunity {deal.id} does not exist",
                system=self.system,
                code="NOT_FOUND",
                status=404,
            )
        account = opportunity.get("Account") or {}
        parent = account.get("ParentId")
        ancestors = await self.client.ancestors(parent) if parent else None
        if opportunity.get("AccountId"):
            self._accounts[deal.id] = opportunity["AccountId"]
        try:
            return mapping.deal_from_opportunity(self.system, opportunity, items, ancestors)
        except DataError as error:
            error.system = self.system
            raise
        except ValidationError as error:
            raise DataError(
                f"{self.system}: opportunity {deal.id} cannot be read as a deal: "
                + "; ".join(_problem(e) for e in error.errors()),
                system=self.system,
                code="INVALID_DEAL",
            ) from error

    async def write_back(self, deal: ExternalRef, status: DealStatus) -> None:
        records = [mapping.opportunity_status_record(deal.id, status, self.status_field)]
        if status.erp_customer is not None:
            account = await self._account_of(deal.id)
            if account is not None:
                records.append(mapping.account_status_record(account, status.erp_customer))
        await self.client.update_records(records, operation="write_back")

    async def show_invoice(self, deal: ExternalRef, view: InvoiceView) -> None:
        """Upsert the ``Billing_Invoice__c`` under the opportunity (by the billing invoice
        id), then the opportunity's billing status."""
        await self.client.upsert(
            mapping.INVOICE_OBJECT,
            mapping.INVOICE_KEY_FIELD,
            view.invoice.id,
            mapping.invoice_record(deal.id, view),
            operation="show_invoice",
        )
        await self.client.update_records(
            [mapping.billing_status_record(deal.id, view)], operation="billing_status"
        )

    async def stamp_exception(self, deal: ExternalRef, text: str | None) -> None:
        await self.client.update_records(
            [mapping.exception_record(deal.id, text)], operation="stamp_exception"
        )

    async def _account_of(self, opportunity_id: str) -> str | None:
        account = self._accounts.get(opportunity_id)
        if account is None:
            account = await self.client.opportunity_account(opportunity_id)
            if account is not None:
                self._accounts[opportunity_id] = account
        return account

    def change_feed(self, channel: str = OPPORTUNITY_CHANNEL) -> SalesforceChangeFeed:
        """A pull reader of ``channel``'s change events, on this adapter's session."""
        return SalesforceChangeFeed(self.client.http, self.client.api_version, channel)

    def pushed_changes(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[ClosedWonChange]:
        """Closed-won changes of one pushed change event, after checking its signature
        (``AuthError`` when forged, stale or unsigned; ``ValueError`` when malformed)."""
        if self.push_secret is None:
            raise AuthError(f"{self.system}: no cdc_webhook_secret configured", code="no_secret")
        verify_push(headers, body, self.push_secret, now)
        event = json.loads(body)
        if not isinstance(event, dict):
            raise ValueError("a change event is a JSON object")
        return closed_won_changes(event, self.system)

    async def aclose(self) -> None:
        await self.client.http.aclose()


def _problem(error: ErrorDetails) -> str:
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"


def build(system_name: str, system: SalesforceSystem, env: Mapping[str, str]) -> SalesforceCrm:
    """The adapter for one ``kind: salesforce`` system of the policy.

    Credentials come from the environment variables the policy names: ``client_id`` and
    ``client_secret`` always; ``username`` and ``password`` (plus ``security_token`` when
    the org wants one) switch from the client-credentials to the username-password flow.
    Fields the system leaves unset take the policy's built-in defaults.
    """
    secrets = read_credentials(system_name, system, env, required=("client_id", "client_secret"))
    form = {"client_id": secrets["client_id"], "client_secret": secrets["client_secret"]}
    if "username" in secrets and "password" in secrets:
        form |= {
            "grant_type": "password",
            "username": secrets["username"],
            "password": secrets["password"] + secrets.get("security_token", ""),
        }
    else:
        form["grant_type"] = "client_credentials"
    http = http_caller(system_name, system, classify, auth=OAuthSession(system_name, form))
    client = SalesforceClient(http, system.options.api_version)
    return SalesforceCrm(
        system_name, client, system.options.status_field, secrets.get("cdc_webhook_secret")
    )
