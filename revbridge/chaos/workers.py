"""The worker fleet of a chaos run: real ``revbridge worker`` processes, killed and restarted.

Each worker has a fixed executor id (``chaos-<n>``) and a fixed port for pushed change
events; a restart reuses both, so DBOS recovers the workflows the killed process left
unfinished (and, on PostgreSQL, a survivor may take them over first). The
:class:`KillPlan` decides, from the run's seed, when each SIGKILL falls: once a random share
of the deals has settled, after a random delay, on a random live worker, followed by a
restart after a random pause.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


class WorkerProcess:
    """One ``revbridge worker`` under a fixed executor id, receiving pushes on ``port``."""

    def __init__(
        self, index: int, policy: Path, env: dict[str, str], port: int, log: Path, concurrency: int
    ) -> None:
        self.executor_id = f"chaos-{index}"
        self.policy, self.port, self.log, self.concurrency = policy, port, log, concurrency
        self.env = {
            **env,
            "REVBRIDGE_EXECUTOR_ID": self.executor_id,
            "DBOS__VMID": self.executor_id,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/salesforce/changes"

    def start(self) -> None:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [
                    REVBRIDGE,
                    "worker",
                    "--policy",
                    str(self.policy),
                    "--poll",
                    "0.1",
                    "--billing-poll",
                    "1",
                    "--concurrency",
                    str(self.concurrency),
                    "--webhooks",
                    f"127.0.0.1:{self.port}",
                ],
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def listening(self) -> bool:
        """True once the worker accepts pushed change events (it is fully up)."""
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self) -> None:
        """SIGKILL, and reap the process so that it is seen gone at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is not gone within 30 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def stop_all(workers: list[WorkerProcess]) -> None:
    """Stop every worker at once (each shuts down in its own time)."""
    for worker in workers:
        if worker.process is not None and worker.process.poll() is None:
            worker.process.terminate()
    for worker in workers:
        worker.stop()


def wait_listening(workers: list[WorkerProcess], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for worker in workers:
        while not worker.listening():
            if not worker.alive():
                raise RuntimeError(f"worker {worker.executor_id} exited; see {worker.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {worker.executor_id} did not start; see {worker.log}")
            time.sleep(0.1)


@dataclass
class Kill:
    """One SIGKILL: whom, when (seconds into the run) and how far the run was."""

    executor_id: str
    at_s: float
    settled: int
    restarted_at_s: float | None = None
    up_at_s: float | None = None  # when the restarted worker took pushed events again


@dataclass
class KillPlan:
    """``count`` kills, each due once ``thresholds[i]`` deals have settled plus a delay."""

    count: int
    deals: int
    rng: random.Random
    thresholds: list[int] = field(default_factory=list)
    done: list[Kill] = field(default_factory=list)
    _due_at: float | None = None
    _restart: tuple[WorkerProcess, float] | None = None
    _coming_up: WorkerProcess | None = None

    def __post_init__(self) -> None:
        self.thresholds = sorted(
            int(self.rng.uniform(0, 0.9) * self.deals) for _ in range(self.count)
        )

    def step(self, now_s: float, settled: int, workers: list[WorkerProcess]) -> None:
        """Called often by the run: restart what is due, then kill what is due."""
        if self._coming_up is not None and self._coming_up.listening():
            self.done[-1].up_at_s = round(now_s, 2)
            self._coming_up = None
        if self._restart is not None and now_s >= self._restart[1]:
            self._restart[0].start()
            self.done[-1].restarted_at_s = round(now_s, 2)
            self._coming_up, self._restart = self._restart[0], None
        if not self.idle or len(self.done) >= self.count:
            return
        if self._due_at is None:
            if settled >= self.thresholds[len(self.done)]:
                self._due_at = now_s + self.rng.uniform(0.2, 3.0)
            return
        alive = [w for w in workers if w.alive()]
        if now_s < self._due_at or not alive:
            return
        victim = self.rng.choice(alive)
        victim.kill()
        self.done.append(Kill(victim.executor_id, round(now_s, 2), settled))
        self._restart = (victim, now_s + self.rng.uniform(0.0, 1.0))
        self._due_at = None

    @property
    def idle(self) -> bool:
        """No worker waiting to be restarted or still coming up."""
        return self._restart is None and self._coming_up is None

    @property
    def complete(self) -> bool:
        return len(self.done) >= self.count and self.idle

    def finish(self, now_s: float) -> None:
        """Restart a worker still waiting for its restart."""
        if self._restart is not None:
            self.step(max(now_s, self._restart[1]), 0, [])
