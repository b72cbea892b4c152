"""Helpers of the console tests: sign in through the form, read a page's CSRF token,
open an exception case on a deal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from revbridge.store import cases, deals

PASSWORD = "correct horse battery staple"


@dataclass
class Recorder:
    signals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replays: list[tuple[str, str | None]] = field(default_factory=list)

    def signal(self, workflow_id: str, message: dict[str, Any]) -> None:
        self.signals.append((workflow_id, message))

    def replay(self, workflow_id: str, from_step: str | None) -> str:
        self.replays.append((workflow_id, from_step))
        return f"{workflow_id}:replay-{len(self.replays)}"


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(
    client: httpx.Client, username: str, password: str, next_page: str = ""
) -> httpx.Response:
    form = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token, form.text
    data = {"login_token": token.group(1), "username": username, "password": password}
    return client.post("/console/login", data={**data, "next": next_page})


def open_case(
    engine: Engine, owner: str, deal: str = "salesforce:006A0000001", name: str = "Globex UK"
) -> str:
    """A deal with an open case owned by ``owner`` (resume and cancel are safe)."""
    with engine.begin() as conn:
        deals.register(conn, deal, f"quote_to_cash:{deal}", f"corr-{deal}")
        deals.advance(conn, deal, status=deals.Status.EXCEPTION, name=name, account=name)
        deals.record_step(
            conn, deal, "fetch_deal", "ok", datetime.now(UTC), "salesforce", detail={"lines": 2}
        )
        finding = {"rule": "tax_nexus", "message": "no nexus in FL", "guidance": "fix"}
        deals.record_step(
            conn, deal, "validate", "failed", datetime.now(UTC), detail={"findings": [finding]}
        )
        case, _ = cases.raise_case(
            conn,
            deal_key=deal,
            workflow_id=f"quote_to_cash:{deal}",
            owner=owner,
            failure_class="validation.tax_nexus",
            rule="validate",
            message="billing state FL has no tax nexus",
            guidance="fix the billing address in the CRM, then resume",
            context={
                "findings": [{"rule": "tax_nexus", "message": "no nexus", "guidance": "fix"}],
                "request": {"headers": {"authorization": "Bearer sk_live_should_not_show"}},
            },
            actions=["resume", "cancel"],
            correlation_id=f"corr-{deal}",
        )
    return case.case_id
