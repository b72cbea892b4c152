"""Acting on exception cases from the console: the API's rules, CSRF, audit, replays."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from console_pages import Recorder, csrf_of, open_case
from sqlalchemy import Engine, select

from revbridge.store import cases, deals
from revbridge.store.tables import audit_log

Browser = Callable[[str], httpx.Client]


def _audit(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.subject))
        return [(r.actor, r.action, r.subject) for r in rows if r.action.startswith("case.")]


def _state(engine: Engine, case_id: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        case = cases.get(conn, case_id)
    assert case is not None
    return case.state, case.assignee


def test_the_owner_resumes_through_the_shared_action_and_it_is_audited(
    store_engine: Engine, browser: Browser, recorder: Recorder
) -> None:
    case_id = open_case(store_engine, "finance_ops")
    client = browser("finance_ops")
    page = client.get(f"/console/exceptions/{case_id}")
    assert page.status_code == 200
    assert 'value="resume"' in page.text
    assert 'value="cancel"' in page.text
    assert "sk_live_should_not_show" not in page.text  # redacted again on the way out
    answer = client.post(
        f"/console/exceptions/{case_id}/actions", data={"csrf": csrf_of(page), "action": "resume"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/exceptions/{case_id}?requested=resume"
    assert "Resume requested" in client.get(answer.headers["location"]).text
    workflow, message = recorder.signals[0]
    assert workflow == "quote_to_cash:salesforce:006A0000001"
    assert message["action"] == "resume"
    assert message["actor"] == "console:finance-ops-0 (finance_ops)"
    assert _audit(store_engine) == [("console:finance-ops-0 (finance_ops)", "case.resume", case_id)]


def test_sales_ops_cannot_act_on_a_finance_case(
    store_engine: Engine, browser: Browser, recorder: Recorder
) -> None:
    case_id = open_case(store_engine, "finance_ops")
    client = browser("sales_ops")
    page = client.get(f"/console/exceptions/{case_id}")
    assert page.status_code == 200
    assert 'value="resume"' not in page.text
    assert "belongs to <strong>finance_ops</strong>" in page.text
    token = csrf_of(page)  # the sign-out form's token: a valid one
    for path, data in (("actions", {"action": "resume"}), ("assign", {"assignee": "sam"})):
        answer = client.post(f"/console/exceptions/{case_id}/{path}", data={"csrf": token, **data})
        assert answer.status_code == 403
        assert "belongs to finance_ops" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    assert recorder.signals == []
    assert _audit(store_engine) == []
    assert _state(store_engine, case_id) == ("open", None)


def test_a_missing_or_wrong_csrf_token_is_403_and_nothing_happens(
    store_engine: Engine, browser: Browser, recorder: Recorder
) -> None:
    case_id = open_case(store_engine, "finance_ops")
    client = browser("finance_ops")
    for token in (None, "", "forged-token"):
        data = {"action": "resume"} if token is None else {"action": "resume", "csrf": token}
        answer = client.post(f"/console/exceptions/{case_id}/actions", data=data)
        assert answer.status_code == 403
        assert "security token" in answer.text
        assign = client.post(
            f"/console/exceptions/{case_id}/assign", data={"assignee": "x", "csrf": token or ""}
        )
        assert assign.status_code == 403
    assert recorder.signals == []
    assert _audit(store_engine) == []
    assert _state(store_engine, case_id) == ("open", None)


def test_another_sessions_token_does_not_pass(
    store_engine: Engine, browser: Browser, recorder: Recorder
) -> None:
    case_id = open_case(store_engine, "finance_ops")
    other = csrf_of(browser("finance_ops").get("/console/"))
    answer = browser("finance_ops").post(
        f"/console/exceptions/{case_id}/actions", data={"csrf": other, "action": "resume"}
    )
    assert answer.status_code == 403
    assert recorder.signals == []


def test_assign_and_an_unsafe_action(
    store_engine: Engine, browser: Browser, recorder: Recorder
) -> None:
    case_id = open_case(store_engine, "sales_ops")
    client = browser("integration_support")  # acts on every owner's cases
    token = csrf_of(client.get(f"/console/exceptions/{case_id}"))
    assigned = client.post(
        f"/console/exceptions/{case_id}/assign", data={"csrf": token, "assignee": "dana@x.io"}
    )
    assert assigned.status_code == 303
    assert _state(store_engine, case_id) == ("open", "dana@x.io")
    refused = client.post(
        f"/console/exceptions/{case_id}/actions", data={"csrf": token, "action": "compensate"}
    )
    assert refused.status_code == 409
    assert "not safe" in refused.text
    unknown = client.post(
        f"/console/exceptions/{case_id}/actions", data={"csrf": token, "action": "delete"}
    )
    assert unknown.status_code == 400
    assert recorder.signals == []
    actions = [a for _, a, _ in _audit(store_engine)]
    assert actions == ["case.assign"]


def test_an_auditor_reads_but_cannot_act(store_engine: Engine, browser: Browser) -> None:
    case_id = open_case(store_engine, "sales_ops")
    client = browser("auditor")
    page = client.get(f"/console/exceptions/{case_id}")
    assert 'value="resume"' not in page.text
    answer = client.post(
        f"/console/exceptions/{case_id}/actions", data={"csrf": csrf_of(page), "action": "resume"}
    )
    assert answer.status_code == 403


def test_bulk_replay_previews_then_runs_only_what_was_previewed(
    store_engine: Engine, browser: Browser, recorder: Recorder
) -> None:
    first = open_case(store_engine, "finance_ops", "salesforce:006F1")
    open_case(store_engine, "sales_ops", "salesforce:006S1")
    open_case(store_engine, "finance_ops", "salesforce:006F2")
    client = browser("integration_support")
    token = csrf_of(client.get("/console/replays"))
    form = {"csrf": token, "status": "exception", "owner": "finance_ops", "except": ""}
    preview = client.post("/console/replays/preview", data=form)
    assert preview.status_code == 200
    assert "2 deal(s) would be replayed" in preview.text
    assert "salesforce:006F1" in preview.text
    assert "salesforce:006S1" not in preview.text
    assert recorder.replays == []
    with store_engine.begin() as conn:  # meanwhile, one deal is resolved
        cases.resolve(conn, first, "cancel")
        deals.advance(conn, "salesforce:006F1", status=deals.Status.CANCELLED)
        deals.register(conn, "salesforce:006F3", "quote_to_cash:salesforce:006F3", "c3")
    chosen = ["salesforce:006F1", "salesforce:006F2"]
    done = client.post("/console/replays/run", data={**form, "chosen": chosen})
    assert done.status_code == 200
    assert recorder.replays == [("quote_to_cash:salesforce:006F2", None)]
    assert "1 previewed deal(s) no longer matched" in done.text
    with store_engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action)).all()
    assert ("console:integration-support-0 (integration_support)", "deal.replay") in rows


def test_replays_need_the_replay_scope(store_engine: Engine, browser: Browser) -> None:
    client = browser("finance_ops")
    assert client.get("/console/replays").status_code == 403
    token = csrf_of(client.get("/console/"))
    answer = client.post("/console/replays/preview", data={"csrf": token, "status": "exception"})
    assert answer.status_code == 403


def test_an_invalid_replay_filter_is_a_422_page(browser: Browser) -> None:
    client = browser("admin")
    token = csrf_of(client.get("/console/replays"))
    answer = client.post(
        "/console/replays/preview", data={"csrf": token, "status": "sideways", "owner": ""}
    )
    assert answer.status_code == 422
    assert "filter.status" in answer.text
