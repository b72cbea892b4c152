"""Table definitions for revbridge's own data; Alembic migrations mirror these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC instants on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: revbridge stores UTC-aware instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Monotonic counters (audit sequence, event-log offsets) locked to serialise appends.
counters = Table(
    "rb_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("hash", String(64), nullable=True),
)

#: Every inbound event, recorded once: by source event id and by business key + version.
inbox = Table(
    "rb_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("business_key", String(200), nullable=True),
    Column("business_version", String(200), nullable=True),
    Column("event_type", String(100), nullable=False),
    Column("correlation_id", String(100), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    UniqueConstraint("source", "event_id"),
    UniqueConstraint("business_key", "business_version"),
    Index(None, "received_at"),
)

#: Cross-references: one canonical object ↔ one external object per system, both ways.
bindings = Table(
    "rb_bindings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(50), nullable=False),
    Column("canonical_id", String(200), nullable=False),
    Column("system", String(50), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("correlation_id", String(100), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("entity", "canonical_id", "system"),
    UniqueConstraint("system", "entity", "external_id"),
)

#: Business exceptions (the ops work queue); at most one open case per deal.
exception_cases = Table(
    "rb_exception_cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("deal_key", String(200), nullable=False),
    Column("workflow_id", String(200), nullable=True),
    Column("state", String(20), nullable=False),
    Column("owner", String(40), nullable=False),
    Column("failure_class", String(80), nullable=False),
    Column("rule", String(120), nullable=False),
    Column("message", Text, nullable=False),
    Column("guidance", Text, nullable=False, server_default=""),
    Column("context", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("occurrences", Integer, nullable=False, server_default="1"),
    Column("assignee", String(120), nullable=True),
    Column("correlation_id", String(100), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("resolution", String(40), nullable=True),
    Index(
        "uq_rb_exception_cases_open_deal",
        "deal_key",
        unique=True,
        sqlite_where=text("state = 'open'"),
        postgresql_where=text("state = 'open'"),
    ),
    Index(None, "owner", "state"),
)

#: Append-only audit trail; each row carries the hash of the previous one.
audit_log = Table(
    "rb_audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("correlation_id", String(100), nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: The embedded canonical event stream, read by offset.
event_log = Table(
    "rb_event_log",
    metadata,
    Column("log_offset", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("subject", String(200), nullable=True),
    Column("correlation_id", String(100), nullable=True),
    Column("event", JSON, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

#: Every policy version ever loaded: its hash, content, who loaded it and when.
config_versions = Table(
    "rb_config_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("policy_hash", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("source", String(500), nullable=False),
    Column("loaded_by", String(200), nullable=False),
    Column("loaded_at", UtcDateTime(), nullable=False),
)

#: One row per deal: where it stands (monotonic ``stage``) and how it is doing (``status``).
deals = Table(
    "rb_deals",
    metadata,
    Column("deal_key", String(200), primary_key=True),
    Column("workflow_id", String(255), nullable=False),
    Column("correlation_id", String(100), nullable=False),
    Column("name", String(255), nullable=True),
    Column("account", String(255), nullable=True),
    Column("amount", String(40), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("stage", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("refs", JSON, nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("accepted_at", UtcDateTime(), nullable=True),
    Column("activated_at", UtcDateTime(), nullable=True),
    Column("invoiced_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("plan", JSON, nullable=True),  # the booked order plan, once activated
    Index(None, "status", "updated_at"),
    Index(None, "correlation_id"),
)

#: The timeline of a deal: one row per step attempt outcome.
deal_steps = Table(
    "rb_deal_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deal_key", String(200), nullable=False),
    Column("step", String(60), nullable=False),
    Column("system", String(50), nullable=True),
    Column("outcome", String(20), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=False),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("detail", JSON, nullable=False),
    Index(None, "deal_key", "id"),
)

#: API keys: the secret is shown once at creation; only its SHA-256 is kept.
api_keys = Table(
    "rb_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(40), nullable=False),
    Column("prefix", String(48), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

#: Idempotency keys of API POSTs (per API key): the request's fingerprint and its response.
idempotency = Table(
    "rb_idempotency",
    metadata,
    Column("api_key_id", String(32), primary_key=True),
    Column("idem_key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("status", Integer, nullable=True),
    Column("headers", JSON, nullable=True),
    Column("body", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "created_at"),
)

#: Order packages submitted directly (CPQ, partner portals): the source a flow reads.
order_packages = Table(
    "rb_order_packages",
    metadata,
    Column("order_key", String(200), primary_key=True),
    Column("package", JSON, nullable=False),
    Column("submitted_by", String(200), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

#: People who sign in to the console; the password is kept as an argon2 hash only.
console_users = Table(
    "rb_console_users",
    metadata,
    Column("username", String(80), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)

#: Console sign-ins: the cookie's SHA-256, whose session it is and its CSRF token.
console_sessions = Table(
    "rb_console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(80), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index(None, "username"),
)

#: The state of each alert rule of the policy: firing or not, since when, notified when.
alert_states = Table(
    "rb_alert_states",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("value", String(64), nullable=True),
    Column("since", UtcDateTime(), nullable=True),
    Column("notified_at", UtcDateTime(), nullable=True),
    Column("evaluated_at", UtcDateTime(), nullable=False),
    Column("detail", JSON, nullable=False),
)

#: Workers of the fleet: their heartbeats, and who recovered the work of one that went away.
workers = Table(
    "rb_workers",
    metadata,
    Column("executor_id", String(80), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("heartbeat_at", UtcDateTime(), nullable=False),
    Column("stopped_at", UtcDateTime(), nullable=True),
    Column("recovered_by", String(80), nullable=True),
    Column("recovered_at", UtcDateTime(), nullable=True),
)

#: Fleet-wide concurrency budget per external system: one row per slot, leased by a call.
system_slots = Table(
    "rb_system_slots",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("holder", String(120), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
)

#: Fleet-wide rate budget per external system: a token bucket every worker draws from.
system_rates = Table(
    "rb_system_rates",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("refilled_at", UtcDateTime(), nullable=False),
)

#: Deals of one account take turns: each waits for the account's earlier deals to finish.
account_turns = Table(
    "rb_account_turns",
    metadata,
    Column("account", String(200), primary_key=True),
    Column("deal_key", String(200), primary_key=True),
    Column("workflow_id", String(200), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "account", "state", "closed_at"),
)

#: Invoices billing posted for a deal, as revbridge carried them to the ERP, tax and CRM.
invoices = Table(
    "rb_invoices",
    metadata,
    Column("invoice_key", String(200), primary_key=True),  # billing system:id
    Column("invoice_id", String(100), nullable=False),  # the billing system's id
    Column("deal_key", String(200), nullable=False),
    Column("correlation_id", String(100), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("legal_entity", String(40), nullable=True),
    Column("status", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", String(40), nullable=False),
    Column("amount_paid", String(40), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=True),
    Column("due_date", String(10), nullable=True),
    Column("paid_at", UtcDateTime(), nullable=True),
    Column("canonical", JSON, nullable=False),  # the canonical Invoice
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "invoice_id"),
    Index(None, "deal_key"),
    Index(None, "customer_id"),
)

#: Payments collected by billing and applied in the ERP.
payments = Table(
    "rb_payments",
    metadata,
    Column("payment_key", String(200), primary_key=True),  # billing system:id
    Column("invoice_key", String(200), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("received_at", UtcDateTime(), nullable=True),
    Column("canonical", JSON, nullable=False),  # the canonical Payment
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index(None, "customer_id", "received_at"),
    Index(None, "invoice_key"),
)

#: Metered usage received on ``POST /v1/usage``, once per record id, and how its report to
#: the billing meter stands.
usage_records = Table(
    "rb_usage_records",
    metadata,
    Column("record_id", String(100), primary_key=True),
    Column("customer_id", String(100), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("quantity", String(40), nullable=False),  # exact decimal text
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("source", String(100), nullable=True),  # the system that reported it
    Column("body_hash", String(64), nullable=False),  # tells a resend from a conflicting body
    Column("state", String(20), nullable=False),  # pending | reported | failed
    Column("reported_at", UtcDateTime(), nullable=True),
    Column("billing_ref", String(255), nullable=True),  # billing system:event id
    Column("error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index(None, "customer_id", "occurred_at"),
    Index(None, "state"),
)

#: Provisioning endpoints told that a deal's billing is live: one row per deal and endpoint,
#: written once the endpoint accepted the activation (it is never sent again).
entitlements = Table(
    "rb_entitlements",
    metadata,
    Column("deal_key", String(200), primary_key=True),
    Column("endpoint", String(100), primary_key=True),
    Column("activated_at", UtcDateTime(), nullable=False),
    Column("webhook_id", String(100), nullable=False),
)
