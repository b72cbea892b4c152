"""diff_files says what changed between two policies in business terms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from revbridge.config import diff_files, diff_policies, load_policy
from revbridge.errors import ConfigError

MakeVariant = Callable[..., Any]  # the ``variant`` fixture (conftest.py)
PolicyFile = Any  # conftest.PolicyFile
US_RULE = "    - {country: US, legal_entity: ACME-US}\n"
GB_RULE = "    - {country: GB, legal_entity: ACME-UK}\n"


def test_new_entity_and_rerouted_country_read_as_business_changes(
    variant: MakeVariant, example_file: PolicyFile, example_text: str
) -> None:
    uk_block = example_text[example_text.index("  ACME-UK:\n") : example_text.index("  ACME-DE:\n")]
    old = variant(
        (uk_block, ""),
        (
            "    - {country: GB, legal_entity: ACME-UK}",
            "    - {country: GB, legal_entity: ACME-US}",
        ),
        name="old.yaml",
    )

    assert diff_files(old.path, example_file.path) == [
        "legal entities: new legal entity ACME-UK (Acme Cloud Ltd, GB, GBP), tax nexus GB",
        "routing: billing country GB now routes to ACME-UK instead of ACME-US",
    ]


def test_each_kind_of_change_is_one_line_in_its_group(
    variant: MakeVariant, example_file: PolicyFile
) -> None:
    new = variant(
        ("base_url: http://127.0.0.1:8703", "base_url: https://api.stripe.com"),
        ("api_key: {env: STRIPE_API_KEY}", "api_key: {env: STRIPE_SECRET_KEY}"),
        ("retry: {max_attempts: 6, max_delay_s: 60}", "retry: {max_attempts: 8, max_delay_s: 60}"),
        ("[US-NY, US-WA, US-TX, US-PA, US-CA]", "[US-NY, US-WA, US-TX, US-CA, US-FL]"),
        ("markets: [US, GB, DE, AT, CH]", "markets: [US, GB, DE, AT]"),
        ("    - {country: CH, legal_entity: ACME-DE}\n", ""),
        ("    erp_item: SVC-IMPLEMENTATION", "    erp_item: SVC-IMPL-FIXED"),
        ('prices: {USD: "2500.00"', 'prices: {USD: "2750.00"'),
        ("    customer.payment_terms: erp", "    customer.payment_terms: crm"),
        ("    catalog: shared", "    catalog: crm"),
        ("    tax.data: finance_ops", "    tax.data: integration_support"),
        ("  order_to_invoice_p95_s: 86400", "  order_to_invoice_p95_s: 43200"),
        ("    finance_ops: 14400 # 4 hours", "    finance_ops: 7200"),
        ("    threshold: 900", "    threshold: 600"),
    )

    assert diff_files(example_file.path, new.path) == [
        "systems: stripe base_url http://127.0.0.1:8703 → https://api.stripe.com",
        "systems: stripe credential api_key now read from STRIPE_SECRET_KEY (was STRIPE_API_KEY)",
        "policies: netsuite retry max_attempts 6 → 8",
        "legal entities: ACME-US tax nexus added US-FL",
        "legal entities: ACME-US tax nexus removed US-PA",
        "markets: no longer selling in CH",
        "routing: billing country CH now routes to ACME-US instead of ACME-DE",
        "mappings: product SVC-IMPLEMENTATION now maps to ERP item SVC-IMPL-FIXED "
        "(was SVC-IMPLEMENTATION)",
        "mappings: product SVC-TRAINING USD price 2500.00 → 2750.00",
        "ownership: domain catalog owner: shared → crm",
        "ownership: field customer.payment_terms owner: erp → crm",
        "exceptions: failure class tax.data owner: finance_ops → integration_support",
        "sla: order_to_invoice_p95_s 86400 → 43200",
        "sla: case_age_max_s finance_ops 14400 → 7200",
        "alerts: alert sync-lag threshold 900 → 600",
    ]


def test_new_and_removed_products_and_systems(
    variant: MakeVariant, example_file: PolicyFile
) -> None:
    new = variant(
        ("  USG-STORAGE-GB:\n", "  USG-STORAGE-TB:\n"),
        ("    erp_item: USG-STORAGE-GB\n", "    erp_item: USG-STORAGE-TB\n"),
        (
            "      commit_documents: true",
            "      commit_documents: true\n\n"
            "  stripe-payments:\n"
            "    kind: stripe\n"
            "    role: payments\n"
            "    base_url: http://127.0.0.1:8705\n",
        ),
    )

    assert diff_files(example_file.path, new.path) == [
        "systems: new system stripe-payments (stripe, payments) at http://127.0.0.1:8705",
        "mappings: new product USG-STORAGE-TB (usage) maps to ERP item USG-STORAGE-TB",
        "mappings: removed product USG-STORAGE-GB",
    ]


def test_reordering_rules_without_effect_is_no_change(
    variant: MakeVariant, example_file: PolicyFile
) -> None:
    new = variant(
        (US_RULE + GB_RULE, GB_RULE + US_RULE),
        ("# SaaS", "# software as a service"),
    )

    assert diff_files(example_file.path, new.path) == []


def test_diff_policies_compares_loaded_policies(example_file: PolicyFile) -> None:
    policy = load_policy(example_file.path)

    assert diff_policies(policy, policy) == []


def test_diff_of_an_invalid_file_raises_config_error(
    variant: MakeVariant, example_file: PolicyFile
) -> None:
    broken = variant(("    erp_item: SVC-TRAINING\n", ""))

    with pytest.raises(ConfigError):
        diff_files(example_file.path, broken.path)
