"""Duplicate, out-of-order deliveries of closed-won change events, through the real ingress.

Besides what the Salesforce sandbox's push relay duplicates and reorders on its own, the
harness reads the closed-won change events from the sandbox, picks a share of them, shuffles
them and POSTs each, signed as the relay signs, to a random worker's change webhook. Each
one is then a change revbridge has already seen, or will see, by push and by pull: the inbox
must record it once and the deal's flow must start once.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from revbridge.chaos.workers import WorkerProcess
from revbridge_sandboxes.salesforce.relay import sign


@dataclass
class Replayed:
    """What the replayed deliveries met: sent, acknowledged, and the inbox's verdicts."""

    sent: int = 0
    acknowledged: int = 0
    recorded_new: int = 0
    recorded_duplicate: int = 0
    unreachable: int = 0


def closed_won_events(salesforce_url: str) -> list[dict[str, Any]]:
    """Every retained Opportunity change event that moved a deal to Closed Won."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = httpx.get(
            f"{salesforce_url}/_sandbox/cdc/events",
            params={"after": after, "entity": "Opportunity", "limit": 5000},
            timeout=60,
        ).json()
        events = page["events"]
        if not events:
            return found
        for event in events:
            if event["payload"].get("StageName") == "Closed Won":
                found.append(event)
        after = events[-1]["event"]["replayId"]


class Replayer:
    """Sends a shuffled share of the closed-won events again, in a thread of its own."""

    def __init__(
        self,
        salesforce_url: str,
        workers: list[WorkerProcess],
        share: float,
        secret: str,
        rng: random.Random,
    ) -> None:
        self.salesforce_url, self.workers, self.share = salesforce_url, workers, share
        self.secret, self.rng = secret, rng
        self.result = Replayed()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def finished(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-replayer", daemon=True)
        self._thread.start()

    def join(self, timeout_s: float = 120) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        events = closed_won_events(self.salesforce_url)
        chosen = self.rng.sample(events, round(len(events) * self.share))
        self.rng.shuffle(chosen)
        with httpx.Client(timeout=30) as client:
            for event in chosen:
                self._deliver(client, event)

    def _deliver(self, client: httpx.Client, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        msg_id = event["event"]["EventUuid"]
        deadline = time.monotonic() + 60
        self.result.sent += 1
        while time.monotonic() < deadline:
            worker = self.rng.choice(self.workers)
            stamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(self.secret, msg_id, stamp, body),
            }
            try:
                response = client.post(worker.webhook_url, content=body, headers=headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 202:
                answer = response.json()
                self.result.acknowledged += 1
                self.result.recorded_new += int(answer["accepted"])
                self.result.recorded_duplicate += int(answer["duplicates"])
                return
            self.result.unreachable += 1  # a killed worker, or its store busy: try again
            time.sleep(0.2)
