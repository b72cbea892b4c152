"""Defects and failures become one owned case each; fixing the data and resuming completes."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from acceptance_stack import Stack

from revbridge.store import cases
from revbridge_sandboxes.seed import create_deal

US = {
    "BillingStreet": "350 5th Ave",
    "BillingCity": "New York",
    "BillingStateCode": "NY",
    "BillingPostalCode": "10001",
    "BillingCountryCode": "US",
}
LINES = [("SUB-PLATFORM-ANNUAL", 1), ("SVC-IMPLEMENTATION", 1)]


def _deal(
    stack: Stack,
    name: str,
    lines: list[tuple[str, int]] = LINES,
    end: date = date(2027, 12, 31),
    **address: Any,
) -> str:
    account = {"Name": name, **US, **address}
    return create_deal(
        stack.book,
        account={k: v for k, v in account.items() if v is not None},
        lines=lines,
        currency="USD",
        start=date(2027, 1, 1),
        end=end,
    )


def test_each_defect_is_a_case_for_its_owner_and_resume_completes_the_deal(stack: Stack) -> None:
    sf = stack.book.seeder
    legacy = httpx.post(
        f"{stack.estate.urls['netsuite']}/services/rest/record/v1/customer",
        headers={"Authorization": "Bearer sandbox-oauth2-access-token"},
        json={"companyName": "Initech", "subsidiary": {"id": "2"}, "externalId": "legacy-1"},
    )
    assert legacy.status_code == 204
    defects = {
        "unmapped": _deal(stack, "Hooli", [*LINES, ("SUB-LEGACY-2019", 1)]),
        "no_nexus": _deal(
            stack, "Vandelay", BillingStateCode="FL", BillingCity="Miami", BillingPostalCode="33101"
        ),
        "no_state": _deal(stack, "Wonka", BillingStateCode=None, BillingPostalCode=None),
        "dates": _deal(stack, "Tyrell", end=date(2026, 12, 1)),
        "no_country": _deal(stack, "Soylent", BillingCountryCode=None, BillingStateCode=None),
        "duplicate": _deal(stack, "Initech"),
    }
    stack.worker()
    stack.close(*defects.values())
    found = {name: stack.case_for(opp) for name, opp in defects.items()}
    owners = {name: (case.owner, case.failure_class) for name, case in found.items()}
    assert owners == {
        "unmapped": ("sales_ops", "validation.product_mapping"),
        "no_nexus": ("finance_ops", "validation.tax_nexus"),
        "no_state": ("sales_ops", "validation.address"),
        "dates": ("sales_ops", "validation.contract_dates"),
        "no_country": ("sales_ops", "validation.address"),
        "duplicate": ("sales_ops", "erp.conflict"),
    }
    assert found["unmapped"].context["findings"][0]["message"].startswith("product SUB-LEGACY-2019")
    assert "DUP_ENTITY" in str(found["duplicate"].context["response"])
    assert all("resume" in case.actions and case.guidance for case in found.values())

    legacy_line = sf.query(
        "SELECT Id FROM OpportunityLineItem WHERE OpportunityId = "
        f"'{defects['unmapped']}' AND PricebookEntry.Product2.ProductCode = 'SUB-LEGACY-2019'"
    )[0]["Id"]
    sf.http.delete(f"{sf.base}/sobjects/OpportunityLineItem/{legacy_line}")
    fixes = {
        "no_nexus": (
            "Account",
            {"BillingStateCode": "NY", "BillingCity": "New York", "BillingPostalCode": "10001"},
        ),
        "no_state": ("Account", {"BillingStateCode": "NY", "BillingPostalCode": "10001"}),
        "dates": ("Opportunity", {"Contract_End_Date__c": "2027-12-31"}),
        "no_country": ("Account", {"BillingCountryCode": "US", "BillingStateCode": "NY"}),
        "duplicate": ("Account", {"Name": "Initech Europe Holdings"}),
    }
    for name, (sobject, fields) in fixes.items():
        record = stack.account_of(defects[name]) if sobject == "Account" else defects[name]
        sf.update(sobject, record, fields)
    for case in found.values():
        result = stack.revbridge("exceptions", "resume", case.case_id)
        assert result.returncode == 0, result.stderr
    for opportunity in defects.values():
        assert stack.activated(opportunity).stage.value == "activated"
    assert stack.open_case(defects["duplicate"]) is None


def test_tax_and_erp_refusals_are_cases_with_the_failing_response(stack: Stack) -> None:
    policy = stack.policy.read_text()
    policy = policy.replace("tax_nexus: [US-NY,", "tax_nexus: [US-NV, US-NY,", 1)
    policy = policy.replace('department: "10", location: "2"', 'location: "2"', 1)
    stack.policy.write_text(policy)
    nevada = _deal(
        stack,
        "Cyberdyne",
        BillingStreet="3600 Las Vegas Blvd",
        BillingCity="Las Vegas",
        BillingStateCode="NV",
        BillingPostalCode="89109",
    )
    uk = stack.uk_deal()
    stack.worker()
    stack.close(nevada, uk)
    tax_case, erp_case = stack.case_for(nevada), stack.case_for(uk)
    assert (tax_case.owner, tax_case.failure_class) == ("finance_ops", "tax.data")
    assert tax_case.context["code"] == "JurisdictionNotFoundError"
    assert tax_case.context["response"]["body"]["error"]["code"] == "JurisdictionNotFoundError"
    assert "Authorization" not in str(tax_case.context["request"]["headers"]).replace(
        "'authorization': '***'", ""
    )
    assert (erp_case.owner, erp_case.failure_class) == ("finance_ops", "erp.data")
    assert "Department" in str(erp_case.context["response"]["body"])
    assert erp_case.context["response"]["status"] == 400


def test_bursts_of_5xx_and_429_are_retried_and_never_become_cases(stack: Stack) -> None:
    burst = [
        {"path": "*", "errors": {"503": 1.0}, "max_count": 2},
        {"path": "*", "errors": {"429": 1.0}, "max_count": 2, "retry_after_s": 0.2},
    ]
    opportunity = stack.uk_deal()
    for name in ("netsuite", "stripe", "avalara"):
        stack.faults(name, burst)
    stack.worker()
    stack.close(opportunity)
    stack.activated(opportunity)
    assert stack.open_case(opportunity) is None
    for name in ("netsuite", "stripe", "avalara"):
        assert stack.state(name)["_faults"] == {"error_503": 2, "error_429": 2}


def test_an_off_price_deal_keeps_one_case_and_its_age_until_fixed(stack: Stack) -> None:
    sf = stack.book.seeder
    opportunity = _deal(stack, "Massive Dynamic")
    line = sf.query(
        "SELECT Id FROM OpportunityLineItem WHERE OpportunityId = "
        f"'{opportunity}' AND PricebookEntry.Product2.ProductCode = 'SUB-PLATFORM-ANNUAL'"
    )[0]["Id"]
    sf.update("OpportunityLineItem", line, {"UnitPrice": 1.0})
    stack.worker()
    stack.close(opportunity)
    case = stack.case_for(opportunity)
    assert (case.owner, case.failure_class) == ("sales_ops", "validation.pricing")
    assert "below its price of 12000.00 USD" in case.message

    # Resumed with the price still wrong: the same case, as old as it was, one more failure.
    assert stack.revbridge("exceptions", "resume", case.case_id).returncode == 0
    again = stack.wait(
        "the case's second occurrence",
        lambda: (c := stack.open_case(opportunity)) and c.occurrences == 2 and c,
    )
    assert (again.case_id, again.created_at) == (case.case_id, case.created_at)
    history = again.context["history"]
    assert [("failed" in h, h.get("action")) for h in history] == [
        (True, None),
        (False, "resume"),
        (True, None),
    ]

    sf.update("OpportunityLineItem", line, {"UnitPrice": 12000.0})
    assert stack.revbridge("exceptions", "resume", case.case_id).returncode == 0
    stack.activated(opportunity)
    with stack.engine.connect() as conn:
        (closed,) = cases.for_deal(conn, f"salesforce:{opportunity}")
    assert (closed.case_id, closed.state, closed.resolution) == (case.case_id, "resolved", "resume")
