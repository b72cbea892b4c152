"""Tax calculation: each line's destination, jurisdictions, taxability, nexus, exemption.

Amounts are ``Decimal``. Each line detail's tax is its taxable amount times the rate,
rounded half-up to cents; a line's tax is the sum of its details; totals are sums of
lines. As in AvaTax, a line's ``exemptAmount`` is everything that is not taxable at the
top (state or country) level, whatever the reason: exemption, non-taxable product or
missing nexus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from revbridge_sandboxes.avalara import errors
from revbridge_sandboxes.avalara.addresses import Place, is_complete, locate, shown
from revbridge_sandboxes.avalara.companies import Company
from revbridge_sandboxes.avalara.payloads import AddressInput, LineInput, TransactionInput
from revbridge_sandboxes.avalara.rates import DEFAULT_TAX_CODE, Jurisdiction, category_of

CENT = Decimal("0.01")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class DetailResult:
    jurisdiction: Jurisdiction
    rate: Decimal
    taxable: Decimal
    non_taxable: Decimal
    exempt: Decimal
    tax: Decimal
    non_taxable_type: str


@dataclass
class LineResult:
    line: LineInput
    tax_code: str
    origin: AddressInput
    destination: AddressInput
    place: Place
    line_amount: Decimal
    exempt_no: str
    entity_use_code: str
    is_item_taxable: bool
    details: list[DetailResult]

    @property
    def taxable(self) -> Decimal:
        return self.details[0].taxable if self.details else ZERO

    @property
    def exempt(self) -> Decimal:
        return self.line_amount - self.taxable

    @property
    def tax(self) -> Decimal:
        return sum((d.tax for d in self.details), ZERO)


@dataclass
class Calculation:
    lines: list[LineResult]
    addresses: list[AddressInput]
    messages: list[dict[str, str]] = field(default_factory=list)

    def total(self, name: str) -> Decimal:
        return sum((getattr(line, name) for line in self.lines), ZERO)


def _ends(tx: TransactionInput, line: LineInput) -> tuple[AddressInput, AddressInput] | None:
    merged = {**tx.addresses, **line.addresses}
    single = merged.get("singleLocation")
    origin = merged.get("shipFrom", single)
    destination = merged.get("shipTo", single)
    if origin is None or destination is None:
        return None
    return origin, destination


def _is_exempt(tx: TransactionInput, line: LineInput, company: Company) -> bool:
    if tx.exemption_no or tx.entity_use_code or line.exemption_code or line.entity_use_code:
        return True
    return company.customer_is_exempt(tx.customer_code)


def _details(
    place: Place, amount: Decimal, share: Decimal, nexus: bool, exempt: bool
) -> list[DetailResult]:
    if not nexus:
        return [DetailResult(place.area.top, ZERO, ZERO, amount, ZERO, ZERO, "NexusRule")]
    result = []
    for juris in place.jurisdictions:
        if share == ZERO:
            detail = DetailResult(juris, ZERO, ZERO, amount, ZERO, ZERO, "ProductTaxabilityRule")
        elif juris.rate == ZERO:
            detail = DetailResult(juris, ZERO, ZERO, amount, ZERO, ZERO, "RateRule")
        elif exempt:
            part = money(amount * share)
            detail = DetailResult(
                juris, juris.rate, ZERO, amount - part, part, ZERO, "ExemptEntityRule"
            )
        else:
            taxable = money(amount * share)
            kind = "RateRule" if share == 1 else "BaseRule"
            tax = money(taxable * juris.rate)
            detail = DetailResult(juris, juris.rate, taxable, amount - taxable, ZERO, tax, kind)
        result.append(detail)
    return result


def _net_of_tax(amount: Decimal, place: Place, share: Decimal) -> Decimal:
    combined = sum((j.rate for j in place.jurisdictions), ZERO) * share
    return money(amount / (1 + combined))


def _line(
    tx: TransactionInput, line: LineInput, company: Company, addresses: list[AddressInput]
) -> LineResult:
    ends = _ends(tx, line)
    if ends is None:
        raise errors.missing_address(line.number)
    for address in ends:
        if address not in addresses:
            addresses.append(address)
        if not is_complete(address):
            raise errors.invalid_address(shown(address), f"Addresses[{addresses.index(address)}]")
    origin, destination = ends
    place = locate(destination)
    if place is None:
        country, region = destination.country.upper() or "US", destination.region.upper()
        refers = f"Addresses[{addresses.index(destination)}]"
        raise errors.jurisdiction_not_found(country, region, refers)
    tax_code = line.tax_code or DEFAULT_TAX_CODE
    category, _ = category_of(tax_code)
    share = place.area.taxable_share(category)
    nexus = company.has_nexus(place.country, place.region)
    exempt = _is_exempt(tx, line, company)
    amount = line.amount
    taxed = nexus and share > ZERO and not exempt and place.area.top.rate > ZERO
    if line.tax_included and taxed:
        amount = _net_of_tax(line.amount, place, share)
    details = _details(place, amount, share, nexus, exempt)
    if line.tax_included and taxed:
        details[0].tax += (line.amount - amount) - sum((d.tax for d in details), ZERO)
    return LineResult(
        line=line,
        tax_code=tax_code,
        origin=origin,
        destination=destination,
        place=place,
        line_amount=amount,
        exempt_no=line.exemption_code or tx.exemption_no,
        entity_use_code=line.entity_use_code or tx.entity_use_code,
        is_item_taxable=share > ZERO,
        details=details,
    )


def calculate(tx: TransactionInput, company: Company) -> Calculation:
    """Tax every line of ``tx`` for ``company``; raises the AvaTax error for bad input."""
    addresses: list[AddressInput] = []
    lines = [_line(tx, line, company, addresses) for line in tx.lines]
    messages = []
    for result in lines:
        if not category_of(result.tax_code)[1]:
            messages.append(
                {
                    "summary": f"Tax code '{result.tax_code}' is not in this sandbox's table.",
                    "details": "The line was taxed as tangible personal property (P0000000).",
                    "refersTo": f"Lines[{result.line.number}].taxCode",
                    "severity": "Warning",
                    "source": "Avalara.AvaTax.Services.Tax",
                }
            )
    return Calculation(lines, addresses, messages)
