"""validate_file reports each class of mistake at the offending node, all in one run."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from revbridge.config import load_policy, validate_file
from revbridge.errors import ConfigError

MakeVariant = Callable[..., Any]  # the ``variant`` fixture (conftest.py)
PolicyFile = Any  # conftest.PolicyFile: ``path``, ``text`` and ``at(needle, after)``
SYSTEMS = "salesforce, netsuite, stripe, avalara"
ROLES = "crm, erp, billing, tax, payments"
SECRET_HINT = "keep secrets in environment variables and reference them as {env: VARIABLE_NAME}"


def problems(file: PolicyFile) -> list[str]:
    return [str(problem) for problem in validate_file(file.path).problems]


def test_example_policy_has_no_problems(example_file: PolicyFile) -> None:
    report = validate_file(example_file.path)

    assert report.problems == []
    assert report.policy is not None
    assert re.fullmatch(
        r"4 systems, 3 legal entities, 6 products, 5 routing rules, policy sha256 [0-9a-f]{12}",
        report.summary(),
    )


def test_unknown_system_in_ownership_is_reported_at_the_value(variant: MakeVariant) -> None:
    file = variant(("customer.payment_terms: erp", "customer.payment_terms: sap"))

    assert problems(file) == [
        f"{file.at('sap', after='customer.payment_terms')}: unknown system 'sap' in ownership "
        f"of field customer.payment_terms; write a system ({SYSTEMS}), a role ({ROLES}), "
        "shared or revbridge"
    ]


def test_unknown_system_in_legal_entity_is_reported(variant: MakeVariant) -> None:
    file = variant(
        ("    tax_company_code: ACME-US\n", "    tax_company_code: ACME-US\n    erp_system: sap\n")
    )

    assert problems(file) == [
        f"{file.at('sap', after='erp_system')}: unknown system 'sap' in erp_system of legal "
        f"entity ACME-US; systems: {SYSTEMS}"
    ]


def test_product_without_erp_mapping_is_reported_at_the_product(variant: MakeVariant) -> None:
    file = variant(("    erp_item: SVC-TRAINING\n", ""))

    assert problems(file) == [
        f"{file.at('SVC-TRAINING:')}: product SVC-TRAINING has no ERP mapping: set erp_item "
        "to the ERP item's external id"
    ]


def test_overlapping_country_rules_are_reported_at_the_later_rule(variant: MakeVariant) -> None:
    rule = "{country: GB, legal_entity: ACME-DE}"
    file = variant(
        (
            "    - {country: CH, legal_entity: ACME-DE}\n",
            f"    - {{country: CH, legal_entity: ACME-DE}}\n    - {rule}\n",
        )
    )

    assert problems(file) == [
        f"{file.at(rule)}: routing rule 6 (GB) overlaps rule 2, which already routes GB to ACME-UK"
    ]


def test_region_rule_after_its_country_rule_overlaps(variant: MakeVariant) -> None:
    rule = "    - {country: US, regions: [NY, PR], legal_entity: ACME-UK}\n"
    file = variant(
        (
            "    - {country: GB, legal_entity: ACME-UK}\n",
            f"    - {{country: GB, legal_entity: ACME-UK}}\n{rule}",
        )
    )

    assert problems(file) == [
        f"{file.at('NY, PR')}: routing rule 3 (US-NY) overlaps rule 1, which already routes "
        "US-NY to ACME-US",
        f"{file.at('PR]')}: routing rule 3 (US-PR) overlaps rule 1, which already routes "
        "US-PR to ACME-US",
    ]


def test_region_rule_before_its_country_rule_is_not_an_overlap(variant: MakeVariant) -> None:
    file = variant(
        (
            "    - {country: US, legal_entity: ACME-US}\n",
            "    - {country: US, regions: [PR], legal_entity: ACME-UK}\n"
            "    - {country: US, legal_entity: ACME-US}\n",
        )
    )

    assert problems(file) == []


def test_missing_routing_reports_the_entity_and_the_market(variant: MakeVariant) -> None:
    file = variant(("    - {country: GB, legal_entity: ACME-UK}\n", ""))

    assert problems(file) == [
        f"{file.at('GB', after='markets:')}: market GB is not routed: add a routing rule for GB "
        "(routing.default only catches countries outside markets)",
        f"{file.at('ACME-UK:')}: legal entity ACME-UK is never routed to: no routing rule sends "
        "customers to it and it is not routing.default",
    ]


def test_market_without_a_rule_is_missing_routing_even_with_a_default(
    variant: MakeVariant,
) -> None:
    file = variant(("markets: [US, GB, DE, AT, CH]", "markets: [US, GB, DE, AT, CH, FR]"))

    assert problems(file) == [
        f"{file.at('FR')}: market FR is not routed: add a routing rule for FR "
        "(routing.default only catches countries outside markets)"
    ]


def test_legal_entity_without_nexus_is_reported(variant: MakeVariant) -> None:
    file = variant(("    tax_nexus: [DE]\n", ""))

    assert problems(file) == [
        f"{file.at('ACME-DE:')}: legal entity ACME-DE has no tax nexus: list in tax_nexus the "
        "jurisdictions where it collects tax (e.g. US-NY, GB)"
    ]


def test_legal_entity_with_empty_nexus_is_reported_at_the_list(variant: MakeVariant) -> None:
    file = variant(("    tax_nexus: [DE]\n", "    tax_nexus: []\n"))

    assert problems(file) == [
        f"{file.at('tax_nexus: []')}: legal entity ACME-DE has no tax nexus: list in tax_nexus "
        "the jurisdictions where it collects tax (e.g. US-NY, GB)"
    ]


def test_inline_credential_is_reported_without_its_value(variant: MakeVariant) -> None:
    file = variant(("client_secret: {env: SF_CLIENT_SECRET}", "client_secret: s3cr3t-Value-42"))

    found = problems(file)

    assert found == [
        f"{file.at('s3cr3t')}: systems.salesforce.credentials.client_secret: inline secret: a "
        "credential must name an environment variable, written {env: VARIABLE_NAME}; never put "
        "the secret itself in the policy file"
    ]
    assert "s3cr3t" not in found[0]


def test_dollar_env_syntax_is_answered_with_the_supported_form(variant: MakeVariant) -> None:
    file = variant(
        ("client_secret: {env: SF_CLIENT_SECRET}", "client_secret: ${env:SF_CLIENT_SECRET}")
    )

    assert problems(file) == [
        f"{file.at('${env')}: systems.salesforce.credentials.client_secret: write this "
        "reference as {env: SF_CLIENT_SECRET}"
    ]


def test_secret_looking_literals_outside_credentials_are_reported(variant: MakeVariant) -> None:
    file = variant(
        ('      account_id: "1234567_SB1"', "      account_id: sk_live_51HxAbCdEfGhIjKlMn"),
        ("      days_until_due: 30", "      days_until_due: 30\n      password: pa55word"),
    )

    found = problems(file)

    assert found == [
        f"{file.at('sk_live')}: inline secret: this value looks like a Stripe secret key; "
        f"{SECRET_HINT}",
        f"{file.at('password')}: systems.stripe.options: unknown key 'password'",
        f"{file.at('pa55word')}: inline secret: 'password' holds a literal value; {SECRET_HINT}",
    ]
    assert not any("pa55word" in line or "51HxAb" in line for line in found)


def test_malformed_yaml_is_one_problem_at_the_parser_position(variant: MakeVariant) -> None:
    file = variant(("    kind: netsuite\n", "    kind: netsuite: erp\n"))

    assert problems(file) == [
        f"{file.at(': erp')}: YAML syntax error: mapping values are not allowed here"
    ]


def test_schema_type_error_names_the_key_and_points_at_the_value(variant: MakeVariant) -> None:
    file = variant(("    max_attempts: 5\n", "    max_attempts: five\n"))

    assert problems(file) == [
        f"{file.at('five')}: defaults.retry.max_attempts: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


def test_float_price_is_refused_with_a_clear_message(variant: MakeVariant) -> None:
    file = variant(('prices: {USD: "12000.00"', "prices: {USD: 12000.00"))

    assert problems(file) == [
        f"{file.at('12000.00,')}: products.SUB-PLATFORM-ANNUAL.billing.prices.USD: amounts must "
        'be quoted decimal strings such as "12000.00"; YAML reads an unquoted number as a '
        "binary float or an integer"
    ]


def test_unknown_key_is_reported_at_the_key(variant: MakeVariant) -> None:
    file = variant(("    timeout_s: 10\n", "    timeout: 10\n"))

    assert problems(file) == [f"{file.at('timeout: 10')}: systems.avalara: unknown key 'timeout'"]


def test_unknown_system_kind_lists_the_supported_kinds(variant: MakeVariant) -> None:
    file = variant(("    kind: avalara\n", "    kind: avatax\n"))

    assert problems(file) == [
        f"{file.at('avatax')}: systems.avalara: unknown system kind 'avatax'; supported: {SYSTEMS}"
    ]


def test_duplicate_key_is_reported_at_the_second_key(variant: MakeVariant) -> None:
    file = variant(("    timeout_s: 10\n", "    timeout_s: 10\n    timeout_s: 11\n"))
    first_line = file.at("timeout_s: 10").split(":")[1]

    assert problems(file) == [
        f"{file.at('timeout_s: 11')}: duplicate key 'timeout_s' (first on line {first_line}); "
        "the first value is used"
    ]


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file_is_one_problem(policy_file: Callable[[str], PolicyFile], text: str) -> None:
    file = policy_file(text)

    assert problems(file) == [
        f"{file.path}:1:1: the file is empty: a policy file starts with 'version: 1'"
    ]


def test_every_mistake_of_a_file_is_reported_in_file_order(variant: MakeVariant) -> None:
    file = variant(
        ("client_secret: {env: SF_CLIENT_SECRET}", "client_secret: hunter2"),
        ("customer.payment_terms: erp", "customer.payment_terms: sap"),
        ("    tax_nexus: [DE]\n", ""),
        ("    - {country: GB, legal_entity: ACME-UK}\n", ""),
        ('prices: {USD: "12000.00"', "prices: {USD: 12000.00"),
        ("    erp_item: SVC-TRAINING\n", ""),
    )

    assert problems(file) == [
        f"{file.at('GB', after='markets:')}: market GB is not routed: add a routing rule for GB "
        "(routing.default only catches countries outside markets)",
        f"{file.at('hunter2')}: systems.salesforce.credentials.client_secret: inline secret: a "
        "credential must name an environment variable, written {env: VARIABLE_NAME}; never put "
        "the secret itself in the policy file",
        f"{file.at('sap', after='customer.payment_terms')}: unknown system 'sap' in ownership "
        f"of field customer.payment_terms; write a system ({SYSTEMS}), a role ({ROLES}), "
        "shared or revbridge",
        f"{file.at('ACME-UK:')}: legal entity ACME-UK is never routed to: no routing rule sends "
        "customers to it and it is not routing.default",
        f"{file.at('ACME-DE:')}: legal entity ACME-DE has no tax nexus: list in tax_nexus the "
        "jurisdictions where it collects tax (e.g. US-NY, GB)",
        f"{file.at('12000.00,')}: products.SUB-PLATFORM-ANNUAL.billing.prices.USD: amounts must "
        'be quoted decimal strings such as "12000.00"; YAML reads an unquoted number as a '
        "binary float or an integer",
        f"{file.at('SVC-TRAINING:')}: product SVC-TRAINING has no ERP mapping: set erp_item to "
        "the ERP item's external id",
    ]


def test_load_policy_raises_config_error_listing_every_problem(variant: MakeVariant) -> None:
    file = variant(
        ("customer.payment_terms: erp", "customer.payment_terms: sap"),
        ("    erp_item: SVC-TRAINING\n", ""),
    )

    with pytest.raises(ConfigError) as caught:
        load_policy(file.path)

    assert str(caught.value) == f"{file.path}: 2 problems in the policy file"
    assert caught.value.problems == problems(file)


def test_load_policy_returns_the_policy(example_file: PolicyFile) -> None:
    policy = load_policy(example_file.path)

    assert policy.route("AT") == "ACME-DE"
    assert policy.legal_entities["ACME-UK"].erp_subsidiary == "3"


def test_routing_to_an_unknown_legal_entity_is_reported(variant: MakeVariant) -> None:
    file = variant(
        ("    - {country: AT, legal_entity: ACME-DE}", "    - {country: AT, legal_entity: ACME-AT}")
    )

    assert problems(file) == [
        f"{file.at('ACME-AT')}: routing rule 4 (AT) routes to unknown legal entity 'ACME-AT'; "
        "legal entities: ACME-US, ACME-UK, ACME-DE"
    ]


def test_system_with_the_wrong_role_is_reported(variant: MakeVariant) -> None:
    file = variant(
        (
            "    tax_company_code: ACME-US\n",
            "    tax_company_code: ACME-US\n    erp_system: stripe\n",
        )
    )

    assert problems(file) == [
        f"{file.at('stripe', after='erp_system')}: erp_system of legal entity ACME-US names "
        "stripe, which has role billing, not erp"
    ]


def test_product_without_a_price_in_an_entity_currency_is_reported(variant: MakeVariant) -> None:
    file = variant(('{USD: "2500.00", GBP: "2000.00", EUR: "2300.00"}', '{USD: "2500.00"}'))

    assert problems(file) == [
        f"{file.at('prices', after='SVC-TRAINING:')}: product SVC-TRAINING has no GBP price, "
        "but ACME-UK invoices in GBP",
        f"{file.at('prices', after='SVC-TRAINING:')}: product SVC-TRAINING has no EUR price, "
        "but ACME-DE invoices in EUR",
    ]


def test_summary_of_an_invalid_file_counts_its_problems(variant: MakeVariant) -> None:
    file = variant(("    erp_item: SVC-TRAINING\n", ""))

    assert validate_file(file.path).summary() == f"{file.path}: 1 problem"


def test_an_alert_on_a_condition_revbridge_does_not_measure_is_reported(
    variant: MakeVariant,
) -> None:
    file = variant(("condition: sync_lag_s", "condition: reconciliation_drift"))

    [problem] = problems(file)
    assert problem.startswith(f"{file.at('reconciliation_drift')}: ")
    assert "sync_lag_s" in problem
    assert "order_to_invoice_p95_s" in problem
