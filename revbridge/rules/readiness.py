"""Can this deal become an order? Each rule is a small named function with an owner.

A rule looks at the deal (canonical order plus customer hierarchy) and the policy and
returns findings; it never raises for a business problem. ``plan`` runs every rule,
and either returns the :class:`~revbridge.ports.OrderPlan` the flow books, or all the
findings at once so the owner can fix everything in one go. The failure class of a
finding (``validation.<rule>``) decides its owner through the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from revbridge.canonical import Customer, Money, Order, OrderLine
from revbridge.canonical.commerce import line_amount
from revbridge.config.policy import Policy
from revbridge.ports import EntityContext, LineMapping, OrderPlan


@dataclass(frozen=True)
class Finding:
    """One reason the deal cannot be booked yet, in words its owner understands."""

    rule: str
    message: str
    guidance: str

    @property
    def failure_class(self) -> str:
        return f"validation.{self.rule}"


@dataclass(frozen=True)
class Deal:
    order: Order
    hierarchy: tuple[Customer, ...]


Rule = Callable[[Deal, Policy], list[Finding]]


def customer_hierarchy(deal: Deal, policy: Policy) -> list[Finding]:
    """Every parent is known, there is no loop, and the ordering customer comes last."""
    ids = [c.customer_id for c in deal.hierarchy]
    if not deal.hierarchy or ids[-1] != deal.order.customer.customer_id:
        return [
            _f(
                "customer_hierarchy",
                "the deal's account is missing from its hierarchy",
                "Check that the opportunity has an account in the CRM.",
            )
        ]
    findings = []
    for position, customer in enumerate(deal.hierarchy):
        if customer.parent_id is not None and customer.parent_id not in ids[:position]:
            findings.append(
                _f(
                    "customer_hierarchy",
                    f"parent account {customer.parent_id} of {customer.name} is not readable",
                    "Fix the account's Parent Account in the CRM, then resume.",
                )
            )
    return findings


#: Countries whose tax depends on the state or province: their addresses need one.
REGIONAL_TAX = ("US", "CA")


def address(deal: Deal, policy: Policy) -> list[Finding]:
    """The billing address exists and is complete enough to route and tax the deal."""
    customer = deal.order.customer
    billing = customer.billing_address
    if billing is None:
        return [
            _f(
                "address",
                f"account {customer.name} has no billing address with a country",
                "Enter the account's billing street, city and country in the CRM, "
                "then resume the deal.",
            )
        ]
    taxed = customer.shipping_address or billing
    if taxed.country in REGIONAL_TAX and not (taxed.region and (taxed.postal_code or taxed.city)):
        return [
            _f(
                "address",
                f"the address of {customer.name} in {taxed.country} has no state/province "
                "or postal code, so its tax jurisdiction is unknown",
                "Complete the account's address (state and postal code) in the CRM, "
                "then resume the deal.",
            )
        ]
    return []


def legal_entity(deal: Deal, policy: Policy) -> list[Finding]:
    """The billing address routes to exactly one legal entity."""
    address = deal.order.customer.billing_address
    if address is None:
        return []  # reported by the address rule
    if policy.route(address.country, address.region) is None:
        return [
            _f(
                "legal_entity",
                f"no legal entity sells to billing country {address.country}",
                "Ask RevOps to add a routing rule for this country, or correct the "
                "account's billing country, then resume.",
            )
        ]
    return []


def tax_nexus(deal: Deal, policy: Policy) -> list[Finding]:
    """The legal entity has tax nexus where the customer is taxed."""
    entity_code = _entity_code(deal, policy)
    if entity_code is None:
        return []
    entity = policy.legal_entities[entity_code]
    place = jurisdiction(deal.order.customer)
    if address(deal, policy):
        return []  # the address rule reports why the jurisdiction is unknown
    if not entity.tax_nexus:
        return [
            _f(
                "tax_nexus",
                f"legal entity {entity_code} has no tax nexus data",
                "Ask finance to record the entity's tax registrations in the policy.",
            )
        ]
    country = place.split("-")[0]
    if place not in entity.tax_nexus and country not in entity.tax_nexus:
        return [
            _f(
                "tax_nexus",
                f"{entity_code} has no tax nexus in {place}",
                f"Finance must decide: register for tax in {place} (then add it to the "
                "policy) or correct the customer's address in the CRM; then resume.",
            )
        ]
    return []


def product_mapping(deal: Deal, policy: Policy) -> list[Finding]:
    """Every product sold is mapped to an ERP item, a billing price and a tax code."""
    findings = []
    for line in deal.order.lines:
        product = policy.products.get(line.sku)
        if product is None:
            findings.append(
                _f(
                    "product_mapping",
                    f"product {line.sku} has no ERP/billing mapping",
                    "Ask RevOps to map this product in the policy, or replace it on "
                    "the opportunity with a mapped product; then resume.",
                )
            )
        elif product.kind != line.kind.value:
            findings.append(
                _f(
                    "product_mapping",
                    f"product {line.sku} is sold as {line.kind.value} but mapped as {product.kind}",
                    "Correct the product family in the CRM "
                    "or the mapping in the policy; then resume.",
                )
            )
    return findings


def contract_dates(deal: Deal, policy: Policy) -> list[Finding]:
    """Subscriptions need a contract whose end date is after its start date."""
    contract = deal.order.contract
    recurring = any(line.kind.value in ("subscription", "usage") for line in deal.order.lines)
    if contract is None:
        if recurring:
            return [
                _f(
                    "contract_dates",
                    "subscription sold without contract dates",
                    "Enter the contract start and end dates on the opportunity, then resume.",
                )
            ]
        return []
    if contract.end_date <= contract.start_date:
        return [
            _f(
                "contract_dates",
                f"contract ends {contract.end_date} on or before it starts {contract.start_date}",
                "Correct the contract dates on the opportunity, then resume.",
            )
        ]
    return []


def billing(deal: Deal, policy: Policy) -> list[Finding]:
    """There is something to bill, in a currency the entity and each price support."""
    order = deal.order
    if not order.lines:
        return [
            _f(
                "billing",
                "the deal has no products",
                "Add the products sold to the opportunity, then resume.",
            )
        ]
    findings = []
    entity_code = _entity_code(deal, policy)
    if entity_code is not None:
        entity = policy.legal_entities[entity_code]
        if str(order.currency) != entity.functional_currency:
            findings.append(
                _f(
                    "billing",
                    f"{entity_code} bills in {entity.functional_currency}, the deal "
                    f"is in {order.currency}",
                    "Change the opportunity currency or "
                    "the account's billing country, then resume.",
                )
            )
    for line in order.lines:
        product = policy.products.get(line.sku)
        if product is not None and str(order.currency) not in product.billing.prices:
            findings.append(
                _f(
                    "billing",
                    f"{line.sku} has no price in {order.currency}",
                    "Ask RevOps to add the price to the policy, then resume.",
                )
            )
    return findings


def pricing(deal: Deal, policy: Policy) -> list[Finding]:
    """Each line is priced as the product map says, within the policy's tolerance and
    largest discount; zero and negative lines only where the policy allows them."""
    findings = []
    for line in deal.order.lines:
        findings.extend(_line_pricing(line, deal.order.currency, policy))
    return findings


def _line_pricing(line: OrderLine, currency: str, policy: Policy) -> list[Finding]:
    rules = policy.pricing
    amount = line.amount.amount
    if line.quantity <= 0:
        return [
            _f(
                "pricing",
                f"{line.sku} is sold in quantity {line.quantity}",
                "Enter a quantity above zero on the opportunity's product, then resume.",
            )
        ]
    if amount < 0 or line.unit_price.amount < 0:
        if rules.allow_credit_lines:
            return []
        return [
            _f(
                "pricing",
                f"{line.sku} is priced below zero ({line.amount})",
                "Remove the negative line or price it as the price book does; a credit is "
                "booked only where the policy allows credit lines (pricing.allow_credit_lines). "
                "Then resume.",
            )
        ]
    if amount == 0:
        if rules.allow_zero_lines:
            return []
        return [
            _f(
                "pricing",
                f"{line.sku} is priced at zero",
                "Price the product as the price book does; a free line is booked only where "
                "the policy allows it (pricing.allow_zero_lines). Then resume.",
            )
        ]
    product = policy.products.get(line.sku)
    if product is None or currency not in product.billing.prices:
        return []  # reported by product_mapping and billing
    listed = line_amount(line.quantity, Money.of(product.billing.prices[currency], currency))
    below = (listed.amount - amount) / listed.amount * 100
    shown = f"{abs(below).quantize(Decimal('0.01'))} %"
    if below < -rules.tolerance_percent:
        return [
            _f(
                "pricing",
                f"{line.sku} is sold at {line.amount}, {shown} above its price of "
                f"{listed} in the product map",
                "Correct the price on the opportunity to the price book's, or ask RevOps "
                "to update the product map; then resume.",
            )
        ]
    if below > rules.max_discount_percent + rules.tolerance_percent:
        return [
            _f(
                "pricing",
                f"{line.sku} is sold at {line.amount}, {shown} below its price of "
                f"{listed}; the policy allows discounts up to "
                f"{rules.max_discount_percent} %",
                "Correct the price or discount on the opportunity, or have the discount "
                "approved and the policy's pricing.max_discount_percent raised; then resume.",
            )
        ]
    return []


RULES: tuple[Rule, ...] = (
    customer_hierarchy,
    address,
    legal_entity,
    tax_nexus,
    product_mapping,
    contract_dates,
    billing,
    pricing,
)


def plan(
    order: Order, hierarchy: tuple[Customer, ...], policy: Policy
) -> OrderPlan | list[Finding]:
    """Run every rule; the plan to book, or every finding that blocks it."""
    deal = Deal(order, hierarchy)
    findings = [finding for rule in RULES for finding in rule(deal, policy)]
    if findings:
        return findings
    code = _entity_code(deal, policy)
    assert code is not None
    entity = policy.legal_entities[code]
    context = EntityContext(
        code=code,
        name=entity.name,
        country=entity.country,
        currency=entity.functional_currency,
        erp_subsidiary=entity.erp_subsidiary,
        tax_company_code=entity.tax_company_code,
        department=entity.erp_dimensions.department,
        location=entity.erp_dimensions.location,
    )
    lines = {}
    for line in order.lines:
        product = policy.products[line.sku]
        lines[line.line_id] = LineMapping(
            sku=line.sku,
            kind=product.kind,
            erp_item=product.erp_item,
            erp_class=product.erp_dimensions.class_ or entity.erp_dimensions.class_,
            price_lookup_key=product.billing.price_lookup_key,
            interval=product.billing.interval,
            usage_type=product.billing.usage_type,
            tax_code=product.tax_code,
        )
    routed_order = order.model_copy(
        update={
            "legal_entity": code,
            "customer": order.customer.model_copy(update={"legal_entity": code}),
        }
    )
    routed = tuple(c.model_copy(update={"legal_entity": code}) for c in hierarchy)
    return OrderPlan(order=routed_order, hierarchy=routed, entity=context, lines=lines)


def jurisdiction(customer: Customer) -> str:
    """Where the customer is taxed: ``US-NY`` or ``CA-QC`` where tax depends on the state
    or province (:data:`REGIONAL_TAX`), else the country code."""
    address = customer.shipping_address or customer.billing_address
    if address is None:
        return "unknown"
    if address.country in REGIONAL_TAX and address.region:
        return f"{address.country}-{address.region}"
    return str(address.country)


def _entity_code(deal: Deal, policy: Policy) -> str | None:
    address = deal.order.customer.billing_address
    return None if address is None else policy.route(address.country, address.region)


def _f(rule: str, message: str, guidance: str) -> Finding:
    return Finding(rule, message, guidance)
