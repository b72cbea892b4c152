"""``GET /metrics`` serves the business SLAs from the store to a keyed Prometheus scrape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from revbridge.store import deals
from revbridge.store.deals import Stage


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name + str(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_need_a_key_and_count_the_accepted_deals(
    client: httpx.Client, auth: dict[str, Any], store_engine: Engine, make_case: Any
) -> None:
    assert client.get("/metrics").status_code == 401
    closed = datetime.now(UTC) - timedelta(minutes=5)
    with store_engine.begin() as conn:
        for n in range(3):
            key = f"salesforce:006M{n}"
            deals.register(conn, key, f"wf-{n}", f"corr-{n}", closed_at=closed)
            if n < 2:
                deals.advance(conn, key, Stage.ACCEPTED)
    make_case("finance_ops")
    answer = client.get("/metrics", headers=auth["auditor"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    assert samples["revbridge_quote_to_order_seconds_count[]"] == 2
    open_cases = {k: v for k, v in samples.items() if k.startswith("revbridge_open_cases")}
    assert sum(open_cases.values()) == 1
    again = _samples(client.get("/metrics", headers=auth["auditor"]).text)
    scraped = [
        v
        for k, v in again.items()
        if k.startswith("revbridge_http_requests_total") and "/metrics" in k
    ]
    assert sum(scraped) >= 2  # the 401 and the first scrape, by route template
