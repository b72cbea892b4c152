"""A worker serves its own metrics: the connector calls it made and the deals queue."""

from __future__ import annotations

import httpx
from acceptance_stack import Stack
from prometheus_client.parser import text_string_to_metric_families

from revbridge.testing.servers import free_port


def test_a_worker_exposes_its_connector_calls_and_the_queue_depth(stack: Stack) -> None:
    port = free_port()
    opportunity = stack.uk_deal()
    stack.worker(None, "--metrics", f"127.0.0.1:{port}")
    stack.close(opportunity)
    stack.activated(opportunity)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    calls: dict[str, float] = {}
    for sample in samples:
        if sample.name == "revbridge_connector_calls_total" and sample.labels["outcome"] == "ok":
            system = sample.labels["system"]
            calls[system] = calls.get(system, 0) + sample.value
    assert {"salesforce", "netsuite", "stripe", "avalara"} <= set(calls)
    assert calls["avalara"] == 1  # one createoradjust for the deal
    depth = {
        s.labels["state"]: s.value
        for s in samples
        if s.name == "revbridge_queue_depth" and s.labels["queue"] == "deals"
    }
    assert depth == {"ENQUEUED": 0, "PENDING": 0}
