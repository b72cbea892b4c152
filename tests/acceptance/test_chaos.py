"""`revbridge chaos`: deals booked under faults, duplicates and killed workers keep every
invariant, and the checker does catch a broken estate (so the runs cannot pass vacuously).

Deselect with ``-m "not chaos"``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from acceptance_stack import REVBRIDGE
from sqlalchemy import Engine, text

from revbridge.chaos.run import ChaosOptions, run_chaos
from revbridge.testing.estate import LocalEstate

pytestmark = pytest.mark.chaos


def _chaos(tmp_path: Path, *args: str) -> tuple[str, dict[str, Any]]:
    """Run ``revbridge chaos``; it gives up waiting (and reports) before pytest's timeout:
    at most 160 s for the deals to settle, 160 s for their invoices, 60 s for the last
    workflows."""
    report = tmp_path / "chaos.json"
    result = subprocess.run(
        [REVBRIDGE, "chaos", *args, "--timeout", "160", "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=450,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result.stdout, json.loads(report.read_text())


def _assert_real_chaos(stdout: str, report: dict[str, Any], deals: int, kills: int) -> None:
    """Every deal settled and every invariant held while faults really were injected."""
    assert f"{deals} of {deals} deals settled" in stdout
    assert "all invariants hold" in stdout
    assert report["ok"]
    assert report["settled"] == deals
    assert report["activated"] + sum(report["held"].values()) == deals
    assert all(check["ok"] and check["checked"] > 0 for check in report["checks"])
    injected = report["injected"]
    assert injected["server_errors"] > 0
    assert injected["rate_limited"] > 0
    assert injected["dropped"] > 0
    assert len(report["kills"]) == kills
    assert all(kill["restarted_at_s"] is not None for kill in report["kills"])
    assert report["replayed"]["acknowledged"] > 0
    assert report["relay"]["duplicated"] > 0
    assert report["duplicates_suppressed"] > 0


def test_120_deals_on_sqlite_with_faults_duplicates_and_kills_keep_every_invariant(
    tmp_path: Path,
) -> None:
    stdout, report = _chaos(tmp_path, "--deals", "120", "--kills", "3")
    _assert_real_chaos(stdout, report, 120, 3)
    assert report["workers"] == 1
    assert report["collected"]["paid"] == report["collected"]["invoices"] > 80
    assert report["collected"]["declined_first"] > 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_workers_on_postgres_killed_and_restarted_keep_every_invariant(
    tmp_path: Path, database_url: str
) -> None:
    stdout, report = _chaos(
        tmp_path, "--deals", "40", "--kills", "2", "--database-url", database_url
    )
    _assert_real_chaos(stdout, report, 40, 2)
    assert (report["workers"], report["database"]) == (2, "postgresql")


def _second_erp_customer_a_lost_payment_and_an_edited_audit_row(
    estate: LocalEstate, engine: Engine
) -> None:
    netsuite = f"{estate.urls['netsuite']}/services/rest/record/v1"
    auth = {"Authorization": "Bearer sandbox-oauth2-access-token"}
    customers = httpx.get(f"{estate.urls['netsuite']}/_sandbox/state", timeout=30).json()
    booked = next(
        c
        for c in customers["records"]["customer"].values()
        if c["externalId"].startswith("acct-") and "parent" in c
    )
    second = httpx.post(
        f"{netsuite}/customer",
        headers=auth,
        json={
            "companyName": booked["companyName"],
            "subsidiary": {"id": "1"},  # the parent company: a name check does not stop it
            "externalId": f"import-{booked['id']}",
            "entityId": booked["externalId"],
        },
        timeout=30,
    )
    assert second.status_code == 204, second.text
    payment = next(iter(customers["records"]["customerPayment"].values()))
    for _ in range(20):  # through the run's faults, as any other client
        try:
            deleted = httpx.delete(
                f"{netsuite}/customerPayment/{payment['id']}", headers=auth, timeout=30
            )
        except httpx.TransportError:
            continue  # answer lost after commit: the next try finds it gone
        if deleted.status_code in (204, 404):
            break
    else:
        raise AssertionError("the payment could not be deleted")
    with engine.begin() as conn:
        conn.execute(text("UPDATE rb_audit_log SET actor = 'mallory' WHERE seq = 1"))


def test_the_checker_reports_a_second_erp_customer_a_lost_payment_and_an_edited_audit_row() -> None:
    report = run_chaos(
        ChaosOptions(deals=6, kills=0, defects=0.0, seed=3),
        tamper=_second_erp_customer_a_lost_payment_and_an_edited_audit_row,
    )
    shutil.rmtree(report.workdir)  # kept by a failed run, for its logs
    failed = {check.name: check.violations for check in report.checks if not check.ok}
    assert not report.ok
    assert set(failed) == {
        "one ERP customer per account",
        "each paid invoice has one ERP payment",
        "audit chain valid",
    }
    assert "ERP payments []" in failed["each paid invoice has one ERP payment"][0]
    assert "2 ERP customers" in failed["one ERP customer per account"][0]
    assert "row 1" in failed["audit chain valid"][0]
