"""Products, price books and price book entries.

The org has one standard price book from the start. An entry in any other price book needs
a standard price for the same product and currency first; one price per product, price
book and currency. Products and entries still used by opportunity line items cannot be
deleted; the standard price book cannot be deleted at all.
"""

from __future__ import annotations

from revbridge_sandboxes.salesforce.dml import Transaction
from revbridge_sandboxes.salesforce.errors import bad_request
from revbridge_sandboxes.salesforce.schema import SObjectType
from revbridge_sandboxes.salesforce.state import Record


def on_entry(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    product = txn.get(new["Product2Id"])
    assert product is not None
    new["Name"], new["ProductCode"] = product["Name"], product["ProductCode"]
    if old is not None:
        return
    standard = txn.state.standard_pricebook_id
    siblings = [
        e
        for e in txn.children(new["Product2Id"], "PricebookEntry", "Product2Id")
        if e["CurrencyIsoCode"] == new["CurrencyIsoCode"] and e["Id"] != new["Id"]
    ]
    if any(e["Pricebook2Id"] == new["Pricebook2Id"] for e in siblings):
        raise bad_request(
            "DUPLICATE_VALUE", "This price definition already exists in this price book", []
        )
    standard_entry = next((e for e in siblings if e["Pricebook2Id"] == standard), None)
    if new["Pricebook2Id"] != standard and standard_entry is None:
        raise bad_request(
            "STANDARD_PRICE_NOT_DEFINED", "No standard price defined for this product", []
        )
    if new["UseStandardPrice"] and standard_entry is not None:
        new["UnitPrice"] = standard_entry["UnitPrice"]


def on_product(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    if old is None or (old["Name"], old["ProductCode"]) == (new["Name"], new["ProductCode"]):
        return
    for entry in txn.children(new["Id"], "PricebookEntry", "Product2Id"):
        txn.stage({**entry, "Name": new["Name"], "ProductCode": new["ProductCode"]})


def on_pricebook(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    new["IsStandard"] = old["IsStandard"] if old is not None else False


def _in_use(txn: Transaction, record: Record, field: str) -> None:
    lines = txn.children(record["Id"], "OpportunityLineItem", field)
    if lines:
        opportunities = ", ".join(sorted({line["OpportunityId"] for line in lines}))
        raise bad_request(
            "DELETE_FAILED",
            f"Your attempt to delete {record['Name']} could not be completed because it is "
            f"associated with the following opportunities.: {opportunities}",
        )


def on_product_delete(txn: Transaction, record: Record) -> None:
    _in_use(txn, record, "Product2Id")


def on_entry_delete(txn: Transaction, record: Record) -> None:
    _in_use(txn, record, "PricebookEntryId")


def on_pricebook_delete(txn: Transaction, record: Record) -> None:
    if record["IsStandard"]:
        raise bad_request("DELETE_FAILED", "You can't delete the standard price book.")
