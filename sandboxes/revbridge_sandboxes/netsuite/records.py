"""Record operations: read, create, update, upsert by external id, delete, transform.

Every operation takes the already-parsed body (see :mod:`.payload`), merges it into the
stored record, runs the record type's rules and stores the result; callers hold the
state's lock around the whole call. Sublist updates follow NetSuite: a line that names
its key (``line`` on items, ``id`` on the address book) updates that line, any other
line is added; ``?replace=item`` (and every upsert) replaces the sublist instead, keeping
billing and closing information of lines that keep their number.
"""

from __future__ import annotations

import copy
from typing import Any

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.catalog import (
    check_deletable,
    prepare_item,
    prepare_list_record,
)
from revbridge_sandboxes.netsuite.customers import check_customer_deletable, prepare_customer
from revbridge_sandboxes.netsuite.errors import (
    duplicate_record,
    error,
    invalid_value,
    not_found,
    user_error,
)
from revbridge_sandboxes.netsuite.invoices import (
    invoice_from_order,
    prepare_invoice,
    record_billing,
)
from revbridge_sandboxes.netsuite.orders import prepare_order, settle
from revbridge_sandboxes.netsuite.payments import (
    prepare_payment,
    resolve_docs,
    settle_invoices,
)
from revbridge_sandboxes.netsuite.schema import ITEM_TYPES, SPECS
from revbridge_sandboxes.netsuite.state import Record

#: The field naming a sublist line in URLs (``.../item/2``) and in updates.
LINE_KEYS = {"item": "line", "addressBook": "id", "apply": "line"}
#: Sublists whose lines an update matches by another field (an apply line by its invoice).
MATCH_KEYS = {"apply": "doc"}


def _prepare(account: Account, rtype: str, rec: Record, old: Record | None) -> None:
    if rtype == "customer":
        prepare_customer(account, rec, old)
    elif rtype == "salesOrder":
        prepare_order(account, rec, old)
    elif rtype == "invoice":
        prepare_invoice(account, rec, old)
    elif rtype == "customerPayment":
        prepare_payment(account, rec, old)
    elif rtype in ITEM_TYPES:
        prepare_item(account, rtype, rec, old)
    else:
        prepare_list_record(account, rtype, rec, old)


class Records:
    """The record operations of one account."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.state = account.state

    def get(self, rtype: str, key: str) -> Record:
        """The record named by ``key``: an internal id or ``eid:<external id>``."""
        if key.startswith("eid:"):
            rec = self.state.by_external_id(rtype, key[4:])
        else:
            rec = self.state.get(rtype, key)
        if rec is None:
            raise not_found()
        if rtype == "salesOrder":
            settle(self.account, rec)
        return rec

    def create(self, rtype: str, parsed: dict[str, Any]) -> Record:
        rec = {k: v for k, v in parsed.items() if v is not None}
        self._check_external_id(rtype, rec.get("externalId"), None)
        _prepare(self.account, rtype, rec, None)
        rid = self.state.insert(rtype, rec)
        created = self.records(rtype)[rid]
        if rtype == "customerPayment":
            settle_invoices(self.state, created, None)
        return created

    def update(
        self, rtype: str, rec: Record, parsed: dict[str, Any], replace: frozenset[str] = frozenset()
    ) -> Record:
        shape = SPECS[rtype].shape
        if rtype == "customerPayment":
            resolve_docs(self.state, parsed.get("apply") or [])
        new = copy.deepcopy(rec)
        for name, value in parsed.items():
            if name in shape.sublists and value is not None:
                new[name] = _merge_lines(new.get(name) or [], value, name, name in replace)
            elif value is None:
                new.pop(name, None)
            else:
                new[name] = value
        self._check_external_id(rtype, new.get("externalId"), rec["id"])
        _prepare(self.account, rtype, new, rec)
        self.state.save(rtype, new)
        if rtype == "customerPayment":
            settle_invoices(self.state, new, rec)
        return new

    def upsert(self, rtype: str, external_id: str, parsed: dict[str, Any]) -> tuple[Record, bool]:
        """Create or update the record with this external id; ``True`` when created."""
        if parsed.get("externalId") not in (None, external_id):
            raise invalid_value("externalId")
        parsed["externalId"] = external_id
        existing = self.state.by_external_id(rtype, external_id)
        if existing is None:
            return self.create(rtype, parsed), True
        if rtype == "salesOrder":
            settle(self.account, existing)
        sublists = frozenset(n for n in parsed if n in SPECS[rtype].shape.sublists)
        return self.update(rtype, existing, parsed, sublists), False

    def delete(self, rtype: str, rec: Record) -> None:
        if rtype == "customer":
            check_customer_deletable(self.account, rec)
        elif (rtype == "salesOrder" and rec.get("_invoices")) or (
            rtype == "invoice" and rec.get("_payments")
        ):
            raise user_error("This record cannot be deleted because it has dependent records.")
        elif rtype == "customerPayment":
            settle_invoices(self.state, None, rec)
        elif rtype == "invoice" and rec.get("createdFrom"):
            order = self.state.get("salesOrder", rec["createdFrom"]["id"])
            if order is not None:
                record_billing(order, rec, sign=-1)
                self.state.save("salesOrder", order)
        elif rtype not in ("invoice", "customerPayment"):
            check_deletable(self.account, rtype, rec)
        self.state.delete(rtype, rec["id"])

    def transform(self, rtype: str, rec: Record, target: str, parsed: dict[str, Any]) -> Record:
        if rtype != "salesOrder" or target != "invoice":
            raise error(
                400,
                "INVALID_TRANSFORM",
                f"The transformation of record type '{rtype}' to '{target}' is not supported.",
                url_path=f"{rtype}/{rec['id']}/!transform/{target}",
            )
        self._check_external_id("invoice", parsed.get("externalId"), None)
        invoice = invoice_from_order(self.account, rec, dict(parsed))
        created = self.records("invoice")[self.state.insert("invoice", invoice)]
        record_billing(rec, created)
        self.state.save("salesOrder", rec)
        return created

    def records(self, rtype: str) -> dict[str, Record]:
        return self.state.records[rtype]

    def _check_external_id(self, rtype: str, external_id: str | None, rid: str | None) -> None:
        if external_id and self.state.external_id_taken(rtype, external_id, rid):
            raise duplicate_record()


def _merge_lines(old: list[Record], new: list[Record], sublist: str, replace: bool) -> list[Record]:
    key = LINE_KEYS.get(sublist, "line")
    if replace:
        return [{k: v for k, v in line.items() if v is not None} for line in new]
    merged = copy.deepcopy(old)
    match = MATCH_KEYS.get(sublist)
    if match is not None:
        return _merge_matching(merged, new, match)
    index = {line.get(key): line for line in merged}
    for i, line in enumerate(new):
        number = line.get(key)
        if number is None:
            merged.append({k: v for k, v in line.items() if v is not None})
            continue
        target = index.get(number)
        if target is None:
            raise invalid_value(f"{sublist}.items[{i}].{key}", key)
        for name, value in line.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    return merged


def _merge_matching(merged: list[Record], new: list[Record], match: str) -> list[Record]:
    """Update the line whose ``match`` reference is the same, add the others."""
    index = {str((line.get(match) or {}).get("id")): line for line in merged}
    for line in new:
        target = index.get(str((line.get(match) or {}).get("id")))
        if target is None:
            merged.append({k: v for k, v in line.items() if v is not None})
            continue
        for name, value in line.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    return merged
