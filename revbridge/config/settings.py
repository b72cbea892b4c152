"""Process settings: how this revbridge process runs, read from ``REVBRIDGE_*`` variables.

Settings are per process and per deployment (where the database is, which port to listen
on); the policy file is per business (systems, ownership, routing, products). Every field
can be set with an environment variable named ``REVBRIDGE_`` + the field name in upper
case, e.g. ``REVBRIDGE_DATABASE_URL``. Values that may embed credentials are ``SecretStr``:
they print as ``**********`` and are read with ``get_secret_value()``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Durability(StrEnum):
    """How hard the store works to keep a committed step across a power loss."""

    STRICT = "strict"  # fsync every commit (SQLite synchronous=FULL); the default
    FAST = "fast"  # fewer fsyncs (SQLite synchronous=NORMAL): faster, may lose the last steps


class Settings(BaseSettings):
    """Settings of one revbridge process."""

    model_config = SettingsConfigDict(
        env_prefix="REVBRIDGE_", extra="ignore", frozen=True, case_sensitive=False
    )

    database_url: SecretStr = SecretStr("sqlite:///./revbridge.db")
    """SQLAlchemy URL of the database (SQLite file or PostgreSQL); may hold a password."""

    policy_file: Path = Path("revbridge.yaml")
    """The policy file to load."""

    durability: Durability = Durability.STRICT
    """``strict`` or ``fast``; see :class:`Durability`."""

    nats_url: SecretStr | None = None
    """NATS server for the JetStream event log; unset means the embedded SQL event log."""

    stream_replicas: int = Field(1, ge=1, le=5)
    """Copies of each JetStream stream (3 in a cluster); applied by ``revbridge stream setup``."""

    stream_ack_wait_s: float = Field(30.0, gt=0)
    """Seconds the ingress consumer has to AckSync a message before it is redelivered."""

    stream_max_deliver: int = Field(20, ge=1)
    """Deliveries of one ingress message before JetStream stops redelivering it."""

    api_host: str = "127.0.0.1"
    """Interface the HTTP API, webhooks and console listen on."""

    api_port: int = Field(8700, ge=1, le=65535)
    """Port the HTTP API, webhooks and console listen on."""

    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    """Reverse proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed:
    comma-separated addresses or CIDR networks (``10.0.0.5, 10.1.0.0/16``). Empty (the
    default): the socket's peer is the client, whatever headers it sends."""

    log_level: LogLevel = "INFO"
    """Least severe level logged."""

    alert_interval_s: float = Field(60.0, ge=0)
    """Seconds between two evaluations of the policy's alert rules in ``revbridge worker``;
    0 turns the evaluation off in that worker."""

    otlp_endpoint: str | None = None
    """OTLP/HTTP collector to send traces to (base URL; ``/v1/traces`` is appended). Unset:
    the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` applies; neither: no tracing."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
