"""Customer rules: required names and subsidiary, defaults, hierarchy and addresses."""

from __future__ import annotations

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.errors import error, invalid_value, missing_values, user_error
from revbridge_sandboxes.netsuite.schema import COUNTRY_NAMES
from revbridge_sandboxes.netsuite.state import Record


def prepare_customer(account: Account, rec: Record, old: Record | None) -> None:
    """Validate ``rec`` (the merged record) and fill NetSuite's defaults, in place."""
    state = account.state
    is_person = bool(rec.get("isPerson", False))
    rec["isPerson"] = is_person
    missing = []
    if is_person:
        missing += [
            label
            for key, label in (("firstName", "First Name"), ("lastName", "Last Name"))
            if not rec.get(key)
        ]
    elif not rec.get("companyName"):
        missing.append("Company Name")
    if not rec.get("subsidiary"):
        missing.append("Subsidiary")
    if missing:
        raise missing_values(missing)
    subsidiary = state.get("subsidiary", rec["subsidiary"]["id"])
    if subsidiary is None or subsidiary.get("isInactive"):
        raise invalid_value("subsidiary")
    if (
        old is not None
        and old.get("subsidiary") != rec["subsidiary"]
        and _has_transactions(account, rec["id"])
    ):
        raise user_error(
            "You cannot change the subsidiary of a customer that has transactions.", "subsidiary"
        )
    rec.setdefault("currency", dict(subsidiary["currency"]))
    _check_parent(account, rec)
    if old is None and not is_person and account.options.block_duplicate_names:
        _check_duplicate_name(account, rec)
    if not rec.get("entityId"):
        name = rec.get("companyName") if not is_person else None
        rec["entityId"] = name or f"{rec.get('firstName', '')} {rec.get('lastName', '')}".strip()
    rec.setdefault("isInactive", False)
    rec.setdefault("taxable", False)
    _number_addresses(rec)
    rec["defaultAddress"] = _default_address(rec)
    rec.setdefault("balance", 0.0)


def _check_duplicate_name(account: Account, rec: Record) -> None:
    name = str(rec["companyName"]).strip().casefold()
    for other in account.state.all("customer"):
        if (
            str(other.get("companyName") or "").strip().casefold() == name
            and other.get("subsidiary") == rec["subsidiary"]
            and other.get("externalId") != rec.get("externalId")
        ):
            raise error(
                400,
                "DUP_ENTITY",
                "This entity already exists: a customer named "
                f"'{rec['companyName']}' exists in this subsidiary (internal id {other['id']}).",
                path="companyName",
            )


def _check_parent(account: Account, rec: Record) -> None:
    parent_ref = rec.get("parent")
    if not parent_ref:
        return
    if parent_ref["id"] == rec.get("id"):
        raise invalid_value("parent")
    parent = account.state.get("customer", parent_ref["id"])
    if parent is None:
        raise invalid_value("parent")
    if parent.get("subsidiary") != rec.get("subsidiary"):
        raise user_error(
            "The subsidiary of a subcustomer must be the same as the subsidiary of its parent.",
            "parent",
        )
    seen = {rec.get("id")}
    while parent is not None and parent.get("parent"):  # refuse cycles
        if parent["id"] in seen:
            raise invalid_value("parent")
        seen.add(parent["id"])
        parent = account.state.get("customer", parent["parent"]["id"])


def _number_addresses(rec: Record) -> None:
    lines = rec.get("addressBook")
    if not lines:
        return
    next_id = max((int(line.get("id", 0)) for line in lines), default=0)
    for line in lines:
        if not line.get("id"):
            next_id += 1
            line["id"] = next_id
        line.setdefault("defaultBilling", False)
        line.setdefault("defaultShipping", False)
        line.setdefault("isResidential", False)
        line["internalId"] = line["id"]


def _default_address(rec: Record) -> str | None:
    lines = rec.get("addressBook") or []
    chosen = next((ln for ln in lines if ln.get("defaultBilling")), lines[0] if lines else None)
    if not chosen or not chosen.get("addressBookAddress"):
        return None
    return address_text(chosen["addressBookAddress"])


def address_text(addr: Record) -> str:
    country = (addr.get("country") or {}).get("id")
    city_line = " ".join(p for p in (addr.get("city"), addr.get("state"), addr.get("zip")) if p)
    parts = [
        addr.get("addressee"),
        addr.get("attention"),
        addr.get("addr1"),
        addr.get("addr2"),
        city_line,
        COUNTRY_NAMES.get(country or "", country),
    ]
    return "\n".join(p for p in parts if p)


def _has_transactions(account: Account, customer_id: str) -> bool:
    return any(
        (rec.get(field) or {}).get("id") == customer_id
        for rtype, field in (
            ("salesOrder", "entity"),
            ("invoice", "entity"),
            ("customerPayment", "customer"),
        )
        for rec in account.state.all(rtype)
    )


def check_customer_deletable(account: Account, rec: Record) -> None:
    if _has_transactions(account, rec["id"]) or any(
        (c.get("parent") or {}).get("id") == rec["id"] for c in account.state.all("customer")
    ):
        raise user_error("This record cannot be deleted because it has dependent records.")
