"""Opportunity behaviour: the stage table, line-item pricing and the Amount roll-up.

Setting ``StageName`` derives ``IsClosed``, ``IsWon``, ``Probability`` and the forecast
category from the stage's OpportunityStage row, as Salesforce does. Line items take their
product, list price and currency from the price book entry; they take ``UnitPrice`` or
``TotalPrice`` (never both), and every change recomputes ``Amount`` and
``HasOpportunityLineItem`` on the opportunity in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from revbridge_sandboxes.salesforce.dml import Transaction
from revbridge_sandboxes.salesforce.errors import SalesforceError, bad_request
from revbridge_sandboxes.salesforce.schema import SObjectType
from revbridge_sandboxes.salesforce.state import Record

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Stage:
    name: str
    probability: int
    forecast: str
    closed: bool = False
    won: bool = False


STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("Prospecting", 10, "Pipeline"),
        Stage("Qualification", 10, "Pipeline"),
        Stage("Needs Analysis", 20, "Pipeline"),
        Stage("Value Proposition", 50, "Pipeline"),
        Stage("Id. Decision Makers", 60, "Pipeline"),
        Stage("Perception Analysis", 70, "Pipeline"),
        Stage("Proposal/Price Quote", 75, "Pipeline"),
        Stage("Negotiation/Review", 90, "Pipeline"),
        Stage("Closed Won", 100, "Closed", closed=True, won=True),
        Stage("Closed Lost", 0, "Omitted", closed=True),
    )
}

#: ForecastCategoryName (label) → ForecastCategory (API value).
FORECAST_API = {
    "Omitted": "Omitted",
    "Pipeline": "Pipeline",
    "Best Case": "BestCase",
    "Commit": "Forecast",
    "Closed": "Closed",
}


def stage_rows() -> list[dict[str, object]]:
    """The OpportunityStage records of the org."""
    return [
        {
            "ApiName": s.name,
            "MasterLabel": s.name,
            "IsActive": True,
            "SortOrder": i,
            "IsClosed": s.closed,
            "IsWon": s.won,
            "DefaultProbability": Decimal(s.probability),
            "ForecastCategory": FORECAST_API[s.forecast],
            "ForecastCategoryName": s.forecast,
        }
        for i, s in enumerate(STAGES.values(), start=1)
    ]


def _integrity(message: str, fields: list[str] | None = None) -> SalesforceError:
    return bad_request("FIELD_INTEGRITY_EXCEPTION", message, fields or [])


def on_opportunity(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    stage = STAGES[new["StageName"]]
    if old is None or old["StageName"] != new["StageName"]:
        if "Probability" not in written or new.get("Probability") is None:
            new["Probability"] = Decimal(stage.probability)
        if "ForecastCategoryName" not in written or new.get("ForecastCategoryName") is None:
            new["ForecastCategoryName"] = stage.forecast
    if stage.closed:
        new["ForecastCategoryName"] = stage.forecast
    new["IsClosed"], new["IsWon"] = stage.closed, stage.won
    new["ForecastCategory"] = FORECAST_API[new["ForecastCategoryName"]]
    if old is not None and old["HasOpportunityLineItem"]:
        if new["CurrencyIsoCode"] != old["CurrencyIsoCode"]:
            raise _integrity(
                "You can't change the currency of an opportunity that has products.",
                ["CurrencyIsoCode"],
            )
        if new["Pricebook2Id"] != old["Pricebook2Id"]:
            raise _integrity(
                "field integrity exception: Pricebook2Id (can't change the price book of an "
                "opportunity that has products)",
                ["Pricebook2Id"],
            )
        new["Amount"] = old["Amount"]
    if new.get("Pricebook2Id") and "Pricebook2Id" in written:
        book = txn.get(new["Pricebook2Id"])
        if book is not None and not book["IsActive"]:
            raise _integrity("field integrity exception: Pricebook2Id (inactive pricebook)")
    _derive(new)


def _derive(opp: Record) -> None:
    amount, probability = opp.get("Amount"), opp.get("Probability")
    opp["ExpectedRevenue"] = (
        (amount * probability / 100).quantize(CENT, ROUND_HALF_UP)
        if amount is not None and probability is not None
        else None
    )
    close = opp["CloseDate"]
    quarter = (close.month - 1) // 3 + 1
    opp["FiscalYear"], opp["FiscalQuarter"], opp["Fiscal"] = (
        close.year,
        quarter,
        f"{close.year} {quarter}",
    )


def on_line_item(
    txn: Transaction, sobject: SObjectType, old: Record | None, new: Record, written: set[str]
) -> None:
    opp = txn.get(new["OpportunityId"])
    assert opp is not None  # the reference was checked before the hook ran
    if old is None:
        _attach_entry(txn, opp, new)
    _price(new, old, written)
    txn.defer("rollup", new["OpportunityId"])


def _attach_entry(txn: Transaction, opp: Record, line: Record) -> None:
    entry = _entry_for(txn, opp, line)
    if not entry["IsActive"]:
        raise _integrity(
            "field integrity exception: PricebookEntryId (pricebook entry is inactive)"
        )
    if line.get("Product2Id") not in (None, entry["Product2Id"]):
        raise _integrity(
            "field integrity exception: Product2Id (product does not match the pricebook entry)",
            ["Product2Id"],
        )
    if opp["Pricebook2Id"] is None:
        txn.stage({**opp, "Pricebook2Id": entry["Pricebook2Id"]})
    elif opp["Pricebook2Id"] != entry["Pricebook2Id"]:
        raise _integrity(
            "field integrity exception: PricebookEntryId (pricebook entry is in a different "
            "pricebook than the one assigned to the opportunity)",
            ["PricebookEntryId"],
        )
    if entry["CurrencyIsoCode"] != opp["CurrencyIsoCode"]:
        raise _integrity(
            "field integrity exception: PricebookEntryId (pricebook entry currency code does not "
            "match opportunity currency code)",
            ["PricebookEntryId"],
        )
    product = txn.get(entry["Product2Id"])
    assert product is not None
    line.update(
        PricebookEntryId=entry["Id"],
        Product2Id=entry["Product2Id"],
        ProductCode=product["ProductCode"],
        Name=f"{opp['Name']} {product['Name']}"[:376],
        ListPrice=entry["UnitPrice"],
        CurrencyIsoCode=opp["CurrencyIsoCode"],
    )


def _entry_for(txn: Transaction, opp: Record, line: Record) -> Record:
    if line.get("PricebookEntryId"):
        entry = txn.get(line["PricebookEntryId"])
        assert entry is not None
        return entry
    if not line.get("Product2Id"):
        raise _integrity(
            "field integrity exception: PricebookEntryId, unknown (versions 3.0 and higher must "
            "specify pricebook entry id, others must specify product id)",
            ["PricebookEntryId"],
        )
    book = opp["Pricebook2Id"] or txn.state.standard_pricebook_id
    for entry in txn.children(line["Product2Id"], "PricebookEntry", "Product2Id"):
        if entry["Pricebook2Id"] == book and entry["CurrencyIsoCode"] == opp["CurrencyIsoCode"]:
            return entry
    raise _integrity(
        "field integrity exception: Product2Id (no active pricebook entry for this product in "
        "the opportunity's price book and currency)",
        ["Product2Id"],
    )


def _price(line: Record, old: Record | None, written: set[str]) -> None:
    unit_given = "UnitPrice" in written and line.get("UnitPrice") is not None
    total_given = "TotalPrice" in written and line.get("TotalPrice") is not None
    if unit_given and total_given:
        raise _integrity(
            "field integrity exception: TotalPrice (only one of unit price or total price may "
            "be specified)",
            ["TotalPrice"],
        )
    quantity: Decimal = line["Quantity"]
    if quantity == 0:
        raise _integrity("field integrity exception: Quantity (quantity must be non-zero)")
    discount = line.get("Discount") or Decimal(0)
    if total_given:
        line["UnitPrice"] = (line["TotalPrice"] / quantity).quantize(CENT, ROUND_HALF_UP)
    elif line.get("UnitPrice") is None:
        raise _integrity(
            "field integrity exception: unknown (must specify either UnitPrice or TotalPrice)",
            ["UnitPrice"],
        )
    line["Subtotal"] = (quantity * line["UnitPrice"]).quantize(CENT, ROUND_HALF_UP)
    if not total_given:
        line["TotalPrice"] = (line["Subtotal"] * (100 - discount) / 100).quantize(
            CENT, ROUND_HALF_UP
        )


def on_line_item_delete(txn: Transaction, line: Record) -> None:
    txn.defer("rollup", line["OpportunityId"])


def rollup(txn: Transaction, opportunity_id: str) -> None:
    """Recompute Amount and HasOpportunityLineItem of one opportunity (at commit)."""
    opp = txn.get(opportunity_id)
    if opp is None:
        return
    lines = txn.children(opportunity_id, "OpportunityLineItem", "OpportunityId")
    amount = sum((line["TotalPrice"] for line in lines), Decimal("0.00"))
    if lines or opp["HasOpportunityLineItem"]:
        new = {**opp, "Amount": amount, "HasOpportunityLineItem": bool(lines)}
    else:
        return
    _derive(new)
    if new != opp:
        new.update(
            LastModifiedDate=txn.now, LastModifiedById=txn.config.user_id, SystemModstamp=txn.now
        )
        txn.stage(new)
