"""The audit log's hash chain names the first edited, inserted or deleted row."""

from __future__ import annotations

from sqlalchemy import Engine, text

from revbridge.store import audit


def _fill(engine: Engine, n: int = 5) -> None:
    for i in range(1, n + 1):
        with engine.begin() as conn:
            audit.append(
                conn,
                actor="ops@example.com",
                action="case.resume",
                subject=f"case:{i}",
                before={"state": "open"},
                after={"state": "resolved", "amount": "12000.00"},
                correlation_id=f"corr-{i}",
            )


def test_untouched_chain_verifies(store_engine: Engine) -> None:
    _fill(store_engine)
    report = audit.verify(store_engine)
    assert report.ok
    assert report.rows == 5


def test_edited_row_is_named(store_engine: Engine) -> None:
    _fill(store_engine)
    with store_engine.begin() as conn:
        conn.execute(text("UPDATE rb_audit_log SET actor = 'mallory' WHERE seq = 3"))
    report = audit.verify(store_engine)
    assert not report.ok
    assert report.bad_seq == 3
    assert "edited" in report.reason


def test_deleted_row_is_named(store_engine: Engine) -> None:
    _fill(store_engine)
    with store_engine.begin() as conn:
        conn.execute(text("DELETE FROM rb_audit_log WHERE seq = 2"))
    report = audit.verify(store_engine)
    assert (report.ok, report.bad_seq) == (False, 3)
    assert "deleted" in report.reason


def test_deleted_last_row_is_named(store_engine: Engine) -> None:
    _fill(store_engine)
    with store_engine.begin() as conn:
        conn.execute(text("DELETE FROM rb_audit_log WHERE seq = 5"))
    report = audit.verify(store_engine)
    assert (report.ok, report.bad_seq) == (False, 5)


def test_inserted_row_is_named(store_engine: Engine) -> None:
    _fill(store_engine)
    with store_engine.begin() as conn:
        # make room after row 2 and forge a row with a self-consistent hash
        conn.execute(text("UPDATE rb_audit_log SET seq = seq + 100 WHERE seq > 2"))
        conn.execute(text("UPDATE rb_audit_log SET seq = seq - 99 WHERE seq > 100"))
        prev = conn.execute(text("SELECT hash FROM rb_audit_log WHERE seq = 2")).scalar_one()
        fields = {
            "seq": 3,
            "at": "2026-01-01T00:00:00.000000+00:00",
            "actor": "mallory",
            "action": "case.cancel",
            "subject": "case:x",
            "correlation_id": None,
            "before": None,
            "after": None,
        }
        digest = audit.entry_hash(prev, fields)
        conn.execute(
            text(
                "INSERT INTO rb_audit_log (seq, at, actor, action, subject, prev_hash, hash) "
                "VALUES (3, :at, 'mallory', 'case.cancel', 'case:x', :prev, :hash)"
            ),
            {"at": "2026-01-01 00:00:00", "prev": prev, "hash": digest},
        )
    report = audit.verify(store_engine)
    assert not report.ok
    assert report.bad_seq in (3, 4)


def test_row_appended_behind_the_log_is_named(store_engine: Engine) -> None:
    _fill(store_engine, 2)
    with store_engine.begin() as conn:
        prev = conn.execute(text("SELECT hash FROM rb_audit_log WHERE seq = 2")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO rb_audit_log (seq, at, actor, action, subject, prev_hash, hash) "
                "VALUES (3, :at, 'mallory', 'x', 'y', :prev, 'f00')"
            ),
            {"at": "2026-01-01 00:00:00", "prev": prev},
        )
    report = audit.verify(store_engine)
    assert (report.ok, report.bad_seq) == (False, 3)
