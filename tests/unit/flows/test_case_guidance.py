"""A case's guidance says what failed and one thing to do about it, then the safe actions."""

from __future__ import annotations

from revbridge.cases.guidance import guidance
from revbridge.flows.outcomes import StepFailure

OWNER_TEXT = "Fix the customer, item or tax setup in NetSuite or Avalara, then resume."


def test_a_rule_that_says_what_to_fix_is_not_contradicted_by_the_owners_general_text() -> None:
    failure = StepFailure(
        step="validate",
        failure_class="validation.tax_nexus",
        message="ACME-US has no tax nexus in US-FL",
        findings=[
            {
                "message": "ACME-US has no tax nexus in US-FL",
                "guidance": "Register for tax in US-FL or correct the address in the CRM.",
            }
        ],
    )
    text = guidance(failure, ["resume", "cancel"], OWNER_TEXT)
    assert "Register for tax in US-FL" in text
    assert OWNER_TEXT not in text
    assert text.splitlines()[-2:] == [
        "• resume: Re-read the deal from the CRM (after you fixed its data) and continue.",
        "• cancel: Stop working on this deal; nothing more is created.",
    ]


def test_a_system_failure_gets_the_owners_general_text() -> None:
    failure = StepFailure(
        step="quote_tax",
        failure_class="tax.data",
        message="avalara 400 JurisdictionNotFoundError",
        system="avalara",
    )
    text = guidance(failure, ["retry", "resume", "cancel"], OWNER_TEXT)
    assert text.splitlines()[:2] == [
        "What failed: avalara 400 JurisdictionNotFoundError",
        OWNER_TEXT,
    ]
