"""One emulated org: its records, sessions, API usage, change events and query cursors.

:class:`SalesforceOrg` is the sandbox state (``reset``/``snapshot``/``restore``) and the
one place a write is committed: :meth:`SalesforceOrg.commit` applies a transaction and
turns its changes into change events. An org starts with its integration user, the
standard price book and the opportunity stages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.auth import Credentials, Sessions
from revbridge_sandboxes.salesforce.cdc import ChangeEvent, ChangeEventLog, Commit
from revbridge_sandboxes.salesforce.dml import Change, OrgConfig, Transaction
from revbridge_sandboxes.salesforce.hooks import build_hooks
from revbridge_sandboxes.salesforce.limits import ApiUsage
from revbridge_sandboxes.salesforce.objects import build_types
from revbridge_sandboxes.salesforce.opportunities import stage_rows
from revbridge_sandboxes.salesforce.queries import Cursors, QueryEngine
from revbridge_sandboxes.salesforce.schema import Field
from revbridge_sandboxes.salesforce.state import OrgState, Record
from revbridge_sandboxes.salesforce.values import now

ORG_ID = ids.make_id(ids.ORG_ID_PREFIX, 1)


class SalesforceOrg:
    """The state of the Salesforce sandbox."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        currencies: Sequence[str],
        corporate_currency: str,
        daily_api_limit: int,
        session_timeout_s: float | None,
        cdc_entities: Sequence[str],
        cdc_retention: int,
        custom_fields: Mapping[str, Sequence[Field]] | None = None,
    ) -> None:
        if corporate_currency not in currencies:
            currencies = (corporate_currency, *currencies)
        self.types = build_types(currencies, custom_fields)
        self.credentials = credentials
        self.state = OrgState(self.types)
        self.hooks = build_hooks(self.types)
        self.sessions = Sessions(ORG_ID, session_timeout_s)
        self.usage = ApiUsage(daily_api_limit)
        self.cdc = ChangeEventLog(frozenset(cdc_entities), cdc_retention)
        self.queries = QueryEngine(self.state)
        self.cursors = Cursors()
        self.user_id = ""
        self._currencies = tuple(currencies)
        self._corporate = corporate_currency
        #: Extra views for ``/_sandbox/state`` (webhook delivery counters), read at snapshot.
        self.extras: Callable[[], dict[str, Any]] = dict
        #: Called after a reset (the CometD server forgets its clients).
        self.on_reset: list[Callable[[], None]] = []
        self.reset()

    @property
    def config(self) -> OrgConfig:
        return OrgConfig(self._currencies, self._corporate, self.user_id)

    def reset(self) -> None:
        """Back to a fresh org (sessions and the API allocation survive a reset)."""
        with self.state.lock:
            self.state.clear()
            self.cdc.clear()
            self.cursors.clear()
            self._seed()
        for listener in self.on_reset:
            listener()

    def _seed(self) -> None:
        moment = now()
        audit: dict[str, Any] = {
            "CreatedDate": moment,
            "LastModifiedDate": moment,
            "SystemModstamp": moment,
        }
        user_type = self.types["User"]
        self.user_id = self.state.new_id(user_type)
        audit |= {"CreatedById": self.user_id, "LastModifiedById": self.user_id}
        self._insert(
            "User",
            {
                "Id": self.user_id,
                "Username": "integration@revbridge.example",
                "FirstName": "Integration",
                "LastName": "User",
                "Name": "Integration User",
                "Email": "integration@revbridge.example",
                "Alias": "integ",
                "IsActive": True,
                **audit,
            },
        )
        self.state.standard_pricebook_id = self._insert(
            "Pricebook2",
            {
                "Name": "Standard Price Book",
                "IsActive": True,
                "IsStandard": True,
                "Description": "Standard price book",
                **audit,
            },
        )
        for row in stage_rows():
            self._insert("OpportunityStage", {**row, **audit})

    def _insert(self, type_name: str, values: dict[str, Any]) -> str:
        sobject = self.types[type_name]
        record: Record = {"_type": type_name}
        for f in sobject.fields.values():
            if f.type != "address":
                record[f.name] = False if f.type == "boolean" else None
        record.update(values)
        record["Id"] = record.get("Id") or self.state.new_id(sobject)
        record["IsDeleted"] = False
        self.state.put(record)
        return str(record["Id"])

    # -- writes -----------------------------------------------------------------

    def transaction(self) -> Transaction:
        return Transaction(self.state, self.config, self.hooks)

    def commit(self, txn: Transaction, origin: str) -> list[ChangeEvent]:
        with self.state.lock:
            changes: list[Change] = txn.commit()
            return self.cdc.publish(changes, Commit(txn.key, origin, self.user_id, txn.now))

    # -- SandboxState -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                **self.state.dump(),
                "org_id": ORG_ID,
                "user_id": self.user_id,
                "standard_pricebook_id": self.state.standard_pricebook_id,
                "sessions": self.sessions.dump(),
                "api_usage": self.usage.dump(),
                "cdc": self.cdc.dump(),
                **self.extras(),
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.load(data)
            self.user_id = data.get("user_id", self.user_id)
            self.state.standard_pricebook_id = data.get(
                "standard_pricebook_id", self.state.standard_pricebook_id
            )
            self.sessions.load(data.get("sessions", []))
            self.usage.load(data.get("api_usage", {}))
            self.cdc.load(data.get("cdc", {}))
