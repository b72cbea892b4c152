"""The ``TransactionModel`` JSON: header, lines, details, addresses, summary, ``$include``.

Enum values are strings, amounts are JSON numbers (integral amounts without a fraction,
as AvaTax prints them), and responses are compact JSON. Temporary documents (order
types) carry zero ids, as AvaTax zeroes the ids of documents it does not record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from revbridge_sandboxes.avalara.addresses import region_of
from revbridge_sandboxes.avalara.companies import Company
from revbridge_sandboxes.avalara.engine import ZERO, Calculation, DetailResult, LineResult
from revbridge_sandboxes.avalara.errors import JSON_HEADERS
from revbridge_sandboxes.avalara.payloads import AddressInput, TransactionInput
from revbridge_sandboxes.avalara.rates import TAX_CODE_IDS, Region

API_VERSION = "26.7.3"
SOFTWARE_VERSION = "26.7.3.0"


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        number = float(value)
        return int(number) if number.is_integer() else number
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=_number).encode()


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, headers=JSON_HEADERS)


@dataclass(frozen=True)
class Include:
    """Which nested collections a response carries (``$include``)."""

    lines: bool = True
    details: bool = True
    summary: bool = True
    addresses: bool = True

    @classmethod
    def parse(cls, value: str | None) -> Include:
        """``None``/empty means ``Summary,Addresses``, which implies lines and details."""
        words = {w.strip().lower() for w in (value or "").split(",") if w.strip()}
        if not words:
            return cls()
        summary = "summary" in words or "summaryonly" in words
        details = "details" in words or "summary" in words
        lines = "lines" in words or "linesonly" in words or details
        if "summaryonly" in words:
            lines = details = False
        if "linesonly" in words:
            lines, details, summary = True, False, False
        return cls(lines, details, summary, "addresses" in words)

    def shape(self, model: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in model.items() if k not in ("lines", "addresses", "summary")}
        if self.lines:
            out["lines"] = [
                line if self.details else {k: v for k, v in line.items() if k != "details"}
                for line in model["lines"]
            ]
        if self.addresses:
            out["addresses"] = model["addresses"]
        if self.summary:
            out["summary"] = model["summary"]
        return out


@dataclass(frozen=True)
class Header:
    """What a stored document adds to a calculation: identity, status and history."""

    status: str
    version: int
    adjustment_reason: str
    adjustment_description: str
    modified: str
    code: str


def _detail(
    d: DetailResult, region: Region, ids: Callable[[], int], ctx: dict[str, int]
) -> dict[str, Any]:
    j = d.jurisdiction
    taxable_units = d.taxable
    return {
        "id": ids(),
        "transactionLineId": ctx["line"],
        "transactionId": ctx["transaction"],
        "addressId": ctx["address"],
        "country": region.country,
        "region": region.region,
        "countyFIPS": "",
        "stateFIPS": region.top.code if region.country == "US" else "",
        "exemptAmount": d.exempt,
        "exemptReasonId": 4,
        "inState": ctx["in_state"] == 1,
        "jurisCode": j.code,
        "jurisName": j.name,
        "jurisdictionId": j.jurisdiction_id,
        "signatureCode": j.signature_code,
        "stateAssignedNo": "",
        "jurisType": j.juris_type,
        "jurisdictionType": j.jurisdiction_type,
        "nonTaxableAmount": d.non_taxable,
        "nonTaxableRuleId": 0,
        "nonTaxableType": d.non_taxable_type,
        "rate": d.rate,
        "rateRuleId": 0,
        "rateSourceId": 0,
        "serCode": "",
        "sourcing": "Destination",
        "tax": d.tax,
        "taxableAmount": d.taxable,
        "taxType": region.tax_type,
        "taxSubTypeId": region.tax_sub_type,
        "taxTypeGroupId": region.tax_type_group,
        "taxName": j.tax_name,
        "taxAuthorityTypeId": 45,
        "taxRegionId": ctx["tax_region"],
        "taxCalculated": d.tax,
        "taxOverride": 0,
        "rateType": region.rate_type,
        "rateTypeCode": region.rate_type_code,
        "taxableUnits": taxable_units,
        "nonTaxableUnits": d.non_taxable,
        "exemptUnits": d.exempt,
        "unitOfBasis": "PerCurrencyUnit",
        "isNonPassThru": False,
        "isFee": False,
        "reportingTaxableUnits": taxable_units,
        "reportingNonTaxableUnits": d.non_taxable,
        "reportingExemptUnits": d.exempt,
        "reportingTax": d.tax,
        "reportingTaxCalculated": d.tax,
        "liabilityType": "Seller",
    }


def _line(
    r: LineResult, tx: TransactionInput, ids: Callable[[], int], ctx: dict[str, int]
) -> dict[str, Any]:
    line_id = ids()
    day = tx.date.isoformat()
    in_state = int(region_of(r.origin) == region_of(r.destination))
    local = r.place.locality
    tax_region = local.tax_region_id if local is not None else r.place.area.tax_region_id
    inner = dict(ctx, line=line_id, in_state=in_state, tax_region=tax_region)
    line = r.line
    return {
        "id": line_id,
        "transactionId": ctx["transaction"],
        "lineNumber": line.number,
        "boundaryOverrideId": 0,
        "customerUsageType": r.entity_use_code,
        "entityUseCode": r.entity_use_code,
        "description": line.description,
        "destinationAddressId": ctx["address"],
        "originAddressId": ctx["origin"],
        "discountAmount": 0,
        "discountTypeId": 0,
        "exemptAmount": r.exempt,
        "exemptCertId": 0,
        "exemptNo": r.exempt_no,
        "isItemTaxable": r.is_item_taxable,
        "isSSTP": False,
        "itemCode": line.item_code,
        "lineAmount": r.line_amount,
        "quantity": line.quantity,
        "ref1": line.ref1,
        "ref2": line.ref2,
        "reportingDate": day,
        "revAccount": line.revenue_account,
        "sourcing": "Destination",
        "tax": r.tax,
        "taxableAmount": r.taxable,
        "taxCalculated": r.tax,
        "taxCode": r.tax_code,
        "taxCodeId": TAX_CODE_IDS.get(r.tax_code.upper(), 0),
        "taxDate": day,
        "taxEngine": "",
        "taxOverrideType": "None",
        "businessIdentificationNo": "",
        "taxOverrideAmount": 0,
        "taxOverrideReason": "",
        "taxIncluded": line.tax_included,
        "details": [_detail(d, r.place.area, ids, inner) for d in r.details],
        "nonPassthroughDetails": [],
        "hsCode": "",
        "costInsuranceFreight": 0,
        "vatCode": "",
        "vatNumberTypeId": 0,
    }


def _address(a: AddressInput, address_id: int, transaction_id: int) -> dict[str, Any]:
    country, region = region_of(a)
    region = region if country == "US" else a.region
    model: dict[str, Any] = {
        "id": address_id,
        "transactionId": transaction_id,
        "boundaryLevel": "Address" if a.line1 else "Zip5",
        "line1": a.line1,
        "line2": a.line2,
        "line3": a.line3,
        "city": a.city,
        "region": region,
        "postalCode": a.postal_code,
        "country": country,
        "taxRegionId": 0,
    }
    if a.latitude is not None and a.longitude is not None:
        model["latitude"] = str(a.latitude)
        model["longitude"] = str(a.longitude)
    return model


_SUMMARY_KEY = ("country", "region", "jurisType", "jurisCode", "taxType", "rateType", "taxName")


def summary(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per jurisdiction, tax type, rate type and tax name, in first-seen order."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line in lines:
        for d in line["details"]:
            key = tuple(d[k] for k in _SUMMARY_KEY)
            row = rows.get(key)
            if row is None:
                row = rows[key] = {
                    "country": d["country"],
                    "region": d["region"],
                    "jurisType": d["jurisdictionType"],
                    "jurisCode": d["jurisCode"],
                    "jurisName": d["jurisName"],
                    "taxAuthorityType": 45,
                    "stateAssignedNo": "",
                    "taxType": d["taxType"],
                    "taxSubType": d["taxSubTypeId"],
                    "taxName": d["taxName"],
                    "rateType": d["rateType"],
                    "taxable": ZERO,
                    "rate": ZERO,
                    "tax": ZERO,
                    "taxCalculated": ZERO,
                    "nonTaxable": ZERO,
                    "exemption": ZERO,
                }
            row["taxable"] += d["taxableAmount"]
            row["tax"] += d["tax"]
            row["taxCalculated"] += d["taxCalculated"]
            row["nonTaxable"] += d["nonTaxableAmount"]
            row["exemption"] += d["exemptAmount"]
            row["rate"] = max(row["rate"], d["rate"])
    return list(rows.values())


def transaction_model(
    tx: TransactionInput,
    calc: Calculation,
    company: Company,
    header: Header,
    ids: Callable[[], int],
) -> dict[str, Any]:
    """The full ``TransactionModel`` (everything ``$include`` can select)."""
    transaction_id = ids()
    address_ids = [ids() for _ in calc.addresses]
    lines = []
    for result in calc.lines:
        ctx = {
            "transaction": transaction_id,
            "address": address_ids[calc.addresses.index(result.destination)],
            "origin": address_ids[calc.addresses.index(result.origin)],
        }
        lines.append(_line(result, tx, ids, ctx))
    first = calc.lines[0]
    day = tx.date.isoformat()
    model: dict[str, Any] = {
        "id": transaction_id,
        "code": header.code,
        "companyId": company.id,
        "date": day,
        "status": header.status,
        "type": tx.type,
        "batchCode": tx.batch_code,
        "currencyCode": tx.currency_code or company.currency,
        "exchangeRateCurrencyCode": tx.currency_code or company.currency,
        "customerUsageType": tx.entity_use_code,
        "entityUseCode": tx.entity_use_code,
        "customerVendorCode": tx.customer_code,
        "customerCode": tx.customer_code,
        "exemptNo": tx.exemption_no,
        "reconciled": False,
        "locationCode": "",
        "reportingLocationCode": tx.reporting_location_code,
        "purchaseOrderNo": tx.purchase_order_no,
        "referenceCode": tx.reference_code,
        "salespersonCode": tx.salesperson_code,
        "taxOverrideType": "None",
        "taxOverrideAmount": 0,
        "taxOverrideReason": "",
        "totalAmount": calc.total("line_amount"),
        "totalExempt": calc.total("exempt"),
        "totalDiscount": 0,
        "totalTax": calc.total("tax"),
        "totalTaxable": calc.total("taxable"),
        "totalTaxCalculated": calc.total("tax"),
        "adjustmentReason": header.adjustment_reason,
        "adjustmentDescription": header.adjustment_description,
        "locked": False,
        "region": first.place.region,
        "country": first.place.country,
        "version": header.version,
        "softwareVersion": SOFTWARE_VERSION,
        "originAddressId": lines[0]["originAddressId"],
        "destinationAddressId": lines[0]["destinationAddressId"],
        "exchangeRateEffectiveDate": day,
        "exchangeRate": 1,
        "isSellerImporterOfRecord": False,
        "description": tx.description,
        "email": tx.email,
        "businessIdentificationNo": tx.business_identification_no,
        "modifiedDate": header.modified,
        "modifiedUserId": 1,
        "taxDate": day,
        "lines": lines,
        "addresses": [
            _address(a, i, transaction_id) for a, i in zip(calc.addresses, address_ids, strict=True)
        ],
        "summary": summary(lines),
    }
    if calc.messages:
        model["messages"] = calc.messages
    return model
