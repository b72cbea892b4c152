"""DBOS set-up, the services flows use, and how work is started and signalled.

This is the only module that configures or calls DBOS (the other flow modules use its
``@DBOS.workflow``/``@DBOS.step`` decorators); nothing outside ``revbridge.flows`` imports
it (ADR 0001). The composition root (``revbridge.app``) calls :func:`install` with the
ports, policy and store engine, then :func:`launch`; a process that runs no workflow
enqueues through an :class:`Enqueuer`.
Deals run on the ``deals`` queue, partitioned by nothing yet; the workflow id is derived
from the opportunity, so a second trigger for the same deal attaches to the first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSClient, SetWorkflowID
from dbos._dbos import _get_dbos_instance
from dbos._error import DBOSNonExistentWorkflowError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from revbridge.config.policy import Policy
from revbridge.ports import BillingPort, CrmPort, EntitlementsPort, ErpPort, TaxPort
from revbridge.store.db import IDLE_IN_TRANSACTION_MS

APP_NAME = "revbridge"
DEALS_QUEUE = "deals"
#: Where a waiting deal's execution is counted: a queue nobody dequeues from, so a deal
#: waiting for a person or for its account's turn holds none of the deals queue's slots.
WAITING_BUCKET = (f"{DEALS_QUEUE}:waiting", None)
CASE_TOPIC = "case_action"
TURN_TOPIC = "account_turn"


@dataclass
class Services:
    """What the steps reach: ports, the policy in force and revbridge's database."""

    crm: CrmPort
    erp: ErpPort
    tax: TaxPort
    billing: BillingPort
    policy: Policy
    policy_hash: str
    engine: Engine
    erp_poll_s: float = 1.0
    source: str = "/revbridge"
    #: The provisioning endpoints of the policy's ``entitlements`` (None: none configured).
    entitlements: EntitlementsPort | None = None


_services: Services | None = None
_queue: Any = None


def install(services: Services) -> None:
    global _services
    _services = services


def services() -> Services:
    if _services is None:
        raise RuntimeError("flows are not installed: build them through revbridge.app")
    return _services


def system_database_url(database_url: str) -> str:
    """DBOS keeps its checkpoints beside revbridge's tables: a sibling SQLite file, or the
    same PostgreSQL database (schema ``dbos``)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "revbridge.db")
        return f"sqlite:///{path.with_name(path.stem + '.dbos' + (path.suffix or '.db'))}"
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def launch(database_url: str, executor_id: str, concurrency: int = 16) -> None:
    """Start DBOS in this process as ``executor_id``: recover the workflows that id left
    unfinished and serve the deals queue."""
    global _queue
    config: dict[str, Any] = {
        "name": APP_NAME,
        "system_database_url": system_database_url(database_url),
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.05,
        # as for revbridge's own connections (revbridge.store.db): a frozen worker's
        # transaction is ended by PostgreSQL, so its locks do not stall the fleet
        "sys_db_idle_transaction_timeout_sec": IDLE_IN_TRANSACTION_MS / 1000,
    }
    config["executor_id"] = executor_id
    DBOS(config=config)  # type: ignore[arg-type]
    DBOS.launch()
    _queue = await DBOS.register_queue_async(
        DEALS_QUEUE, worker_concurrency=concurrency, polling_interval_sec=0.05
    )


def recover(executor_ids: list[str]) -> int:
    """Take over the unfinished workflows of workers that are gone: each is re-enqueued
    once (DBOS dequeues atomically, so a second recovery of the same workflow is a no-op)
    and runs on whichever live worker dequeues it. Returns how many were recovered."""
    return len(DBOS._recover_pending_workflows(executor_ids))


async def wait_finished(workflow_ids: list[str], timeout_s: float) -> bool:
    """Wait until every one of these workflows has returned (SUCCESS); False on timeout.
    A deal's status can say "activated" a step or two before its workflow returns."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = list(workflow_ids)
    while pending:
        statuses = [await DBOS.get_workflow_status_async(wid) for wid in pending]
        pending = [
            wid
            for wid, status in zip(pending, statuses, strict=True)
            if status is None or status.status != "SUCCESS"
        ]
        if not pending:
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def queue_depth() -> dict[str, int]:
    """The deals queue's workflows by state (ENQUEUED, PENDING), fleet-wide."""
    queued = DBOS.list_queued_workflows(queue_name=DEALS_QUEUE, load_input=False, load_output=False)
    counts: dict[str, int] = {}
    for workflow in queued:
        counts[workflow.status] = counts.get(workflow.status, 0) + 1
    return counts


def quiet_interruptions() -> None:
    """Workflows waiting on an exception case are interrupted at shutdown by design; a
    surviving or the next worker takes them over, so their cancellation is not worth a
    warning."""
    logging.getLogger("dbos").setLevel(logging.ERROR)


def shutdown() -> None:
    DBOS.destroy(destroy_registry=False)


async def start_deal(workflow: Any, workflow_id: str, *args: Any) -> None:
    """Enqueue the deal's workflow; a duplicate id attaches to the existing one."""
    with SetWorkflowID(workflow_id):
        await _queue.enqueue_async(workflow, *args)


class Enqueuer:
    """Enqueues workflows on the deals queue from a process that runs none (``revbridge
    serve``), through one DBOS client made on first use."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._client: DBOSClient | None = None

    def enqueue(self, workflow_name: str, workflow_id: str, *args: Any) -> None:
        """Enqueue ``workflow_name`` under ``workflow_id`` (a duplicate id attaches)."""
        if self._client is None:
            self._client = DBOSClient(system_database_url=system_database_url(self.database_url))
        self._client.enqueue(
            {"workflow_name": workflow_name, "queue_name": DEALS_QUEUE, "workflow_id": workflow_id},
            *args,
        )


def workflow_statuses(database_url: str) -> dict[str, str]:
    """DBOS's status of every workflow (``SUCCESS``, ``PENDING``, ``ENQUEUED``, ``ERROR``...)."""
    client = DBOSClient(system_database_url=system_database_url(database_url))
    try:
        found = client.list_workflows(load_input=False, load_output=False)
        return {w.workflow_id: str(w.status) for w in found}
    finally:
        client.destroy()


@dataclass(frozen=True)
class Outside:
    """Operator actions and replays delivered from a process that runs no workflows (the
    API, the console, the CLI) to the workflows in ``database_url``."""

    database_url: str

    def signal(self, workflow_id: str, message: dict[str, Any]) -> None:
        signal_from_outside(self.database_url, workflow_id, message)

    def replay(self, workflow_id: str, from_step: str | None) -> str:
        return replay(self.database_url, workflow_id, from_step)


def signal_from_outside(database_url: str, workflow_id: str, message: dict[str, Any]) -> None:
    """Deliver an operator action from a process that does not run workflows (the CLI)."""
    client = DBOSClient(system_database_url=system_database_url(database_url))
    try:
        client.send(workflow_id, message, topic=CASE_TOPIC)
    finally:
        client.destroy()


@contextmanager
def _off_the_queue() -> Iterator[None]:
    """Inside a workflow: while the deal waits, it does not count against the deals
    queue's ``worker_concurrency``, so waiting deals never keep new ones from starting.

    DBOS counts a worker's load as its in-process executions per queue; this moves the
    running workflow's entry to :data:`WAITING_BUCKET` and back when the wait ends (also
    on cancellation or shutdown, before DBOS releases the entry).
    """
    active = _get_dbos_instance()._active_workflows_set
    key, bucket = DBOS.workflow_id, (DEALS_QUEUE, None)
    moved = False
    with active._lock:
        buckets = active._m.get(key or "", [])
        if bucket in buckets:
            buckets[buckets.index(bucket)] = WAITING_BUCKET
            moved = True
    try:
        yield
    finally:
        if moved:
            with active._lock:
                buckets = active._m[key or ""]
                buckets[buckets.index(WAITING_BUCKET)] = bucket


async def wait_for_action(case_id: str, occurrence: int, timeout_s: float = 3600) -> dict[str, Any]:
    """Inside a workflow: wait durably until an operator acts on this occurrence of the
    case; stale messages (an earlier occurrence, another case) are dropped. The wait holds
    no slot of the deals queue."""
    with _off_the_queue():
        while True:
            message = await DBOS.recv_async(CASE_TOPIC, timeout_seconds=timeout_s)
            if message is None:
                continue
            if message.get("case_id") == case_id and message.get("occurrence") == occurrence:
                return dict(message)


async def wait_for_turn(timeout_s: float) -> None:
    """Inside a workflow: wait until woken by the account's previous deal, or ``timeout_s``
    (the caller then checks again, so a lost wake-up only costs a little time). The wait
    holds no slot of the deals queue."""
    with _off_the_queue():
        await DBOS.recv_async(TURN_TOPIC, timeout_seconds=timeout_s)


async def nudge(workflow_id: str, case_id: str, occurrence: int) -> None:
    """Inside a workflow: tell the run waiting on a case that it was settled without an
    operator (the case is resolved already)."""
    message = {"settled": True, "case_id": case_id, "occurrence": occurrence}
    await DBOS.send_async(workflow_id, message, topic=CASE_TOPIC)


async def wake(workflow_id: str) -> None:
    """Inside a workflow: tell ``workflow_id`` that its turn may have come."""
    await DBOS.send_async(workflow_id, {"turn": True}, topic=TURN_TOPIC)


async def sleep(seconds: float) -> None:
    await DBOS.sleep_async(seconds)


def replay(database_url: str, workflow_id: str, from_step: str | None = None) -> str:
    """Fork the deal's workflow from a named step (default: the start) on the current code and
    policy; returns the new workflow id. Effects are idempotent, so what exists is reused."""
    system = make_url(system_database_url(database_url))
    if system.get_backend_name() == "sqlite" and not Path(system.database or "").exists():
        raise ValueError(f"{workflow_id} has not started: there is nothing to replay")
    client = DBOSClient(system_database_url=system.render_as_string(hide_password=False))
    try:
        try:
            client.retrieve_workflow(workflow_id)
        except (DBOSNonExistentWorkflowError, DBAPIError):  # no such workflow, or no worker yet
            raise ValueError(f"{workflow_id} has not started: there is nothing to replay") from None
        start = 1
        if from_step is not None:
            steps = client.list_workflow_steps(workflow_id, load_output=False)
            matches = [s["function_id"] for s in steps if s["function_name"].endswith(from_step)]
            if not matches:
                names = sorted({s["function_name"].rsplit(".", 1)[-1] for s in steps})
                raise ValueError(f"{workflow_id} has no step {from_step!r}; steps: {names}")
            start = min(matches)
        return client.fork_workflow(workflow_id, start, queue_name=DEALS_QUEUE).get_workflow_id()
    finally:
        client.destroy()
