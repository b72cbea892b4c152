"""Operator actions from the command line: retry, compensate, cancel; list, show, trace."""

from __future__ import annotations

from acceptance_stack import Stack

REFUSE_SUBSCRIPTIONS = {"method": "POST", "path": "/v1/subscriptions", "errors": {"400": 1.0}}


def _crm_status(stack: Stack, opportunity: str) -> str:
    [row] = stack.book.seeder.query(
        f"SELECT Integration_Status__c FROM Opportunity WHERE Id = '{opportunity}'"
    )
    return str(row["Integration_Status__c"])


def test_compensate_after_billing_fails_closes_the_erp_order_and_tells_the_crm(
    stack: Stack,
) -> None:
    opportunity = stack.uk_deal()
    stack.faults("stripe", [REFUSE_SUBSCRIPTIONS])
    stack.worker()
    stack.close(opportunity)
    case = stack.case_for(opportunity)
    assert (case.owner, case.failure_class, case.rule) == (
        "finance_ops",
        "billing.data",
        "start_subscription",
    )
    assert case.actions == ["retry", "resume", "compensate", "cancel"]
    assert "erp_order" in case.context["bindings"]

    listed = stack.revbridge("exceptions", "list", "--owner", "finance_ops")
    assert case.case_id in listed.stdout
    shown = stack.revbridge("exceptions", "show", case.case_id)
    assert "compensate" in shown.stdout
    assert "sk_test" not in shown.stdout

    result = stack.revbridge("exceptions", "compensate", case.case_id)
    assert result.returncode == 0, result.stderr
    stack.wait(
        "the CRM to show the compensation", lambda: _crm_status(stack, opportunity) == "Compensated"
    )
    order = next(iter(stack.state("netsuite")["records"]["salesOrder"].values()))
    assert all(line["isClosed"] for line in order["item"])
    [document] = stack.state("avalara")["transactions"]
    assert document["status"] == "Cancelled"
    deal = stack.deal(opportunity)
    assert deal is not None
    assert deal.status.value == "compensated"
    assert stack.open_case(opportunity) is None
    trace = stack.revbridge("trace", opportunity)
    assert "close_sales_order" in trace.stdout
    assert "void_tax" in trace.stdout


def test_retry_after_the_billing_system_was_fixed_completes_the_deal(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    stack.faults("stripe", [{**REFUSE_SUBSCRIPTIONS, "max_count": 1}])
    stack.worker()
    stack.close(opportunity)
    case = stack.case_for(opportunity)
    assert stack.revbridge("exceptions", "retry", case.case_id).returncode == 0
    stack.activated(opportunity)
    assert _crm_status(stack, opportunity) == "Activated"
    again = stack.revbridge("exceptions", "retry", case.case_id)
    assert again.returncode != 0
    assert "resolved" in again.stderr


def test_cancel_stops_the_deal_and_tells_the_crm(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    stack.faults("stripe", [REFUSE_SUBSCRIPTIONS])
    stack.worker()
    stack.close(opportunity)
    case = stack.case_for(opportunity)
    unsafe = stack.revbridge("exceptions", "resume", "case_does_not_exist")
    assert unsafe.returncode != 0
    assert stack.revbridge("exceptions", "cancel", case.case_id).returncode == 0
    stack.wait(
        "the CRM to show the cancellation", lambda: _crm_status(stack, opportunity) == "Cancelled"
    )
    deal = stack.deal(opportunity)
    assert deal is not None
    assert deal.status.value == "cancelled"
