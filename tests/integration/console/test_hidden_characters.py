"""Bidi overrides and control characters that reached the store (from a CRM's deal name, a
case message or an assignee) are shown inert, as their escapes, on every console page that
prints them; the console refuses them in the ids and text it is given (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from console_pages import csrf_of, open_case
from sqlalchemy import Engine

from revbridge.store import cases, deals

Browser = Callable[[str], httpx.Client]
RLO, LRI, PDI, ESC = "\u202e", "\u2066", "\u2069", "\x1b"
HIDDEN = (RLO, LRI, PDI, ESC)
NAME = f"Globex {RLO}KU{ESC}[31m"  # reads "Globex UK" with the override applied
ACCOUNT = f"Acme{LRI} Ltd{PDI}"


def _shown(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    assert not any(char in page.text for char in HIDDEN), "a hidden character was sent"
    return page.text


def test_names_and_texts_with_bidi_and_control_characters_are_shown_as_escapes(
    store_engine: Engine, browser: Browser
) -> None:
    deal = "salesforce:006BIDI"
    case_id = open_case(store_engine, "sales_ops", deal=deal, name=NAME)
    with store_engine.begin() as conn:
        cases.assign(conn, case_id, f"eve{RLO}moc.elpmaxe@")
        deals.advance(conn, deal, account=ACCOUNT)
    ops = browser("sales_ops")
    deal_page = _shown(ops.get(f"/console/deals/{deal}"))
    assert "Globex \\u202eKU\\u001b[31m" in deal_page
    assert "Acme\\u2066 Ltd\\u2069" in deal_page
    assert "Globex \\u202eKU" in _shown(ops.get("/console/deals", params={"q": "Globex"}))
    queue = _shown(ops.get("/console/exceptions"))
    assert "eve\\u202emoc.elpmaxe@" in queue
    assert "eve\\u202emoc.elpmaxe@" in _shown(ops.get(f"/console/exceptions/{case_id}"))


@pytest.mark.parametrize(
    "path",
    [
        "/console/deals/salesforce:006%E2%80%AE",
        "/console/exceptions/case%00",
        "/console/deals?q=a%00",
    ],
)
def test_ids_and_search_text_with_hidden_characters_are_a_400_page(
    browser: Browser, path: str
) -> None:
    page = browser("sales_ops").get(path)
    assert page.status_code == 400, page.text
    assert "These parameters are not valid" in page.text


def test_an_assignee_with_a_bidi_override_is_refused_and_the_case_is_unchanged(
    store_engine: Engine, browser: Browser
) -> None:
    case_id = open_case(store_engine, "sales_ops")
    ops = browser("sales_ops")
    token = csrf_of(ops.get(f"/console/exceptions/{case_id}"))
    answer = ops.post(
        f"/console/exceptions/{case_id}/assign",
        data={"csrf": token, "assignee": f"eve{RLO}moc.elpmaxe@"},
    )
    assert answer.status_code == 400, answer.text
    assert "The assignee holds U+202E" in answer.text
    with store_engine.connect() as conn:
        case = cases.get(conn, case_id)
    assert case is not None
    assert case.assignee is None
