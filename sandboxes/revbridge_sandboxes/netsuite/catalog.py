"""Sale items and the account's lists (subsidiaries, currencies, segments, terms...)."""

from __future__ import annotations

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.errors import invalid_value, missing_values, user_error
from revbridge_sandboxes.netsuite.schema import ITEM_TYPES, SPECS
from revbridge_sandboxes.netsuite.state import Record

ITEM_TYPE_IDS = {"serviceSaleItem": "Service", "nonInventorySaleItem": "NonInvtPart"}
ITEM_TYPE_NAMES = {"Service": "Service", "NonInvtPart": "Non-inventory Item"}


def prepare_item(account: Account, rtype: str, rec: Record, old: Record | None) -> None:
    missing = []
    if not rec.get("itemId"):
        missing.append("Item Name/Number")
    if not (rec.get("subsidiary") or {}).get("items"):
        missing.append("Subsidiary")
    if missing:
        raise missing_values(missing)
    rec.setdefault("incomeAccount", {"id": account.state.estate.default_income_account})
    rec.setdefault("includeChildren", False)
    rec.setdefault("isInactive", False)
    rec.setdefault("isTaxable", True)
    rec.setdefault("isFulfillable", rtype == "nonInventorySaleItem")
    rec.setdefault("salesDescription", rec.get("displayName") or rec["itemId"])


_TREES = ("department", "classification", "location", "subsidiary")
_NAME_FIELD = {"account": "acctName", "salesTaxItem": "itemId"}


def prepare_list_record(account: Account, rtype: str, rec: Record, old: Record | None) -> None:
    name_field = _NAME_FIELD.get(rtype, "name")
    if not rec.get(name_field):
        raise missing_values([SPECS[rtype].shape.fields[name_field].label or "Name"])
    rec.setdefault("isInactive", False)
    if rtype == "subsidiary":
        missing = [
            label
            for key, label in (("country", "Country"), ("currency", "Currency"))
            if not rec.get(key)
        ]
        if missing:
            raise missing_values(missing)
        currencies = rec.setdefault("_currencies", [rec["currency"]["id"]])
        if rec["currency"]["id"] not in currencies:
            currencies.insert(0, rec["currency"]["id"])
        rec.setdefault("isElimination", False)
    parent = rec.get("parent")
    if rtype in _TREES and parent and parent["id"] == rec.get("id"):
        raise invalid_value("parent")


_FIELD_OF = {"classification": "class", "term": "terms"}


def check_deletable(account: Account, rtype: str, rec: Record) -> None:
    """Refuse deleting records that transactions (or other records) still use."""
    rid = rec["id"]
    used = False
    if rtype in ITEM_TYPES:
        used = any(
            line["item"]["id"] == rid
            for t in ("salesOrder", "invoice")
            for tran in account.state.all(t)
            for line in tran.get("item") or []
        )
    elif SPECS[rtype].family == "list":
        field = _FIELD_OF.get(rtype, rtype)
        used = any(
            (other.get(field) or {}).get("id") == rid
            for t in ("customer", "salesOrder", "invoice", "customerPayment")
            for other in account.state.all(t)
        )
    if used:
        raise user_error("This record cannot be deleted because it has dependent records.")
