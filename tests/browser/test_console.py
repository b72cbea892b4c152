"""The console in headless Chromium: a finance user fixes a defect and resumes the deal;
a sales user cannot touch a finance case."""

from __future__ import annotations

import re
import time
from typing import Any

from browser_stack import Console
from sqlalchemy import select

from revbridge.store.tables import audit_log


def _audit(console: Console, case_id: str) -> list[tuple[str, str]]:
    with console.stack.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.action).where(audit_log.c.subject == case_id)
        ).all()
    return [(r.actor, r.action) for r in rows]


def _reload_until(page: Any, text: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while text not in page.content():
        assert time.monotonic() < deadline, f"never showed {text!r}"
        time.sleep(0.5)
        page.reload()


def test_finance_fixes_the_crm_data_resumes_and_sees_the_deal_activated(
    console: Console, page: Any, sign_in: Any, screenshot: Any
) -> None:
    opportunity = console.defects[0]
    case = console.case_for(opportunity)
    assert (case.owner, case.failure_class) == ("finance_ops", "validation.tax_nexus")
    for clean in console.clean:
        console.stack.activated(clean)

    sign_in(page, "fiona")
    page.click("nav >> text=Exceptions")
    page.click(f"a:has-text('{case.case_id}')")
    page.wait_for_url(re.compile(f".*/exceptions/{case.case_id}$"))
    assert page.locator("h1").inner_text().startswith("validation.tax_nexus")
    assert page.get_by_role("heading", name="What failed").is_visible()
    screenshot(page, "case")

    sf = console.stack.book.seeder  # the fix, in the CRM, over its HTTP API
    account = console.stack.account_of(opportunity)
    sf.update("Account", account, {"BillingStateCode": "NY", "BillingCity": "New York",
                                   "BillingPostalCode": "10001"})  # fmt: skip
    page.click("button[value=resume]")
    page.wait_for_url(re.compile(r".*\?requested=resume$"))
    assert "Resume requested" in page.content()

    page.click("text=deal's timeline")
    _reload_until(page, 'class="badge status-activated">activated')
    timeline = page.locator("table.timeline").inner_text()
    for step in ("validate", "submit_sales_order", "write_back"):
        assert step in timeline
    assert page.locator(".lane.failed").count() == 0
    screenshot(page, "deal")
    assert ("console:fiona (finance_ops)", "case.resume") in _audit(console, case.case_id)
    assert console.stack.activated(opportunity).stage.value == "activated"

    page.click("nav >> text=Overview")
    assert page.locator(".tile.status-activated .value").inner_text() == "3"
    screenshot(page, "overview", full_page=True)


def test_sales_ops_cannot_act_on_a_finance_case(console: Console, page: Any, sign_in: Any) -> None:
    opportunity = console.defects[1]
    case = console.case_for(opportunity)
    assert case.owner == "finance_ops"

    sign_in(page, "sam")
    page.goto(f"{console.url}/exceptions/{case.case_id}")
    assert page.locator("button[value=resume]").count() == 0
    assert "belongs to finance_ops" in page.locator(".notice").inner_text()

    token = page.locator("input[name=csrf]").first.input_value()  # a valid session token
    forged = page.request.post(
        f"{console.url}/exceptions/{case.case_id}/actions",
        form={"csrf": token, "action": "resume"},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "cannot act on it" in forged.text()
    after = console.case_for(opportunity)
    assert (after.state, after.occurrences, after.assignee) == ("open", case.occurrences, None)
    assert [a for _, a in _audit(console, case.case_id)] == ["case.raised"]
    deal = console.stack.deal(opportunity)
    assert deal is not None
    assert deal.status.value == "exception"
