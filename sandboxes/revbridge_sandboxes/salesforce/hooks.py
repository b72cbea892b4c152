"""Which behaviour runs for which object, and the small behaviours of the other objects.

Addresses are resolved against the state/country picklists for every object that has
them; contacts get their full ``Name``; contracts and orders get their numbers, status
codes and derived dates; accounts refuse circular hierarchies.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from revbridge_sandboxes.salesforce import opportunities, pricing
from revbridge_sandboxes.salesforce.dateliterals import add_months
from revbridge_sandboxes.salesforce.dml import Hook, Hooks, Transaction
from revbridge_sandboxes.salesforce.errors import bad_request
from revbridge_sandboxes.salesforce.geo import resolve_address
from revbridge_sandboxes.salesforce.schema import SObjectType
from revbridge_sandboxes.salesforce.state import Record

_CONTRACT_STATUS = {"Draft": "Draft", "In Approval Process": "InApproval", "Activated": "Activated"}


def build_hooks(types: dict[str, SObjectType]) -> Hooks:
    specific: dict[str, Hook] = {
        "Account": _on_account,
        "Contact": _on_contact,
        "Opportunity": opportunities.on_opportunity,
        "OpportunityLineItem": opportunities.on_line_item,
        "Product2": pricing.on_product,
        "Pricebook2": pricing.on_pricebook,
        "PricebookEntry": pricing.on_entry,
        "Contract": _on_contract,
        "Order": _on_order,
    }
    hooks = Hooks(
        delete={
            "Account": _on_account_delete,
            "OpportunityLineItem": opportunities.on_line_item_delete,
            "Product2": pricing.on_product_delete,
            "PricebookEntry": pricing.on_entry_delete,
            "Pricebook2": pricing.on_pricebook_delete,
        },
        deferred={"rollup": opportunities.rollup},
    )
    for name, sobject in types.items():
        hook = specific.get(name)
        if sobject.addresses:
            hook = _with_addresses(hook)
        if hook is not None:
            hooks.write[name] = hook
    return hooks


def _with_addresses(inner: Hook | None) -> Hook:
    def hook(
        txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
    ) -> None:
        for compound in sobject.addresses:
            resolve_address(compound.removesuffix("Address"), new, written)
        if inner is not None:
            inner(txn, sobject, old, new, written)

    return hook


def _on_account(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    parent_id = new.get("ParentId")
    seen = {new["Id"]}
    while parent_id is not None:
        if parent_id in seen:
            raise bad_request(
                "CIRCULAR_DEPENDENCY",
                "Parent Account: the hierarchy can't contain a loop",
                ["ParentId"],
            )
        seen.add(parent_id)
        parent = txn.get(parent_id)
        parent_id = parent.get("ParentId") if parent is not None else None


def _on_account_delete(txn: Transaction, record: Record) -> None:
    for type_name in ("Contract", "Order"):
        for child in txn.children(record["Id"], type_name, "AccountId"):
            if child["Status"] == "Activated":
                raise bad_request(
                    "DELETE_FAILED",
                    f"Your attempt to delete {record['Name']} could not be completed because it "
                    f"is associated with an activated {type_name.lower()}: {child['Id']}",
                )
            txn.delete(child["Id"])


def _on_contact(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    new["Name"] = " ".join(p for p in (new.get("FirstName"), new["LastName"]) if p)


def _on_contract(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    if old is None:
        new["ContractNumber"] = txn.state.next_number("Contract")
    new["StatusCode"] = _CONTRACT_STATUS[new["Status"]]
    if new["Status"] == "Activated" and (old is None or old["Status"] != "Activated"):
        new["ActivatedDate"] = txn.now
    start, term = new.get("StartDate"), new.get("ContractTerm")
    new["EndDate"] = (
        add_months(start, term) - timedelta(days=1) if start is not None and term else None
    )


def _on_order(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    if old is None:
        new["OrderNumber"] = txn.state.next_number("Order")
        new["TotalAmount"] = Decimal("0.00")
    new["StatusCode"] = new["Status"]
    if new["Status"] == "Activated" and (old is None or old["Status"] != "Activated"):
        new["ActivatedDate"] = txn.now
    if new.get("EndDate") is not None and new["EndDate"] < new["EffectiveDate"]:
        raise bad_request(
            "FIELD_INTEGRITY_EXCEPTION",
            "Order End Date can't be earlier than the order start date.",
            ["EndDate"],
        )
