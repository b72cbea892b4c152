"""What the sandboxes do wrong during a chaos run, and how much of it they did.

Every API route revbridge calls gets the same mix: server errors (half 500, half 503),
``429`` with ``Retry-After``, and commit-then-drop (the request takes effect, then the
connection is cut). The one route exempt is the sales rep's own ``PATCH`` of an
opportunity, by which the harness closes deals: it is not revbridge's traffic. Salesforce
also duplicates and reorders the change events it pushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The API routes revbridge writes and reads, by sandbox.
ROUTES = {
    "salesforce": ["/services/*", "/cometd/*"],
    "netsuite": ["/services/rest/*"],
    "stripe": ["/v1/*"],
    "avalara": ["/api/v2/*"],
}
#: How the harness closes deals in the CRM: passes untouched (the first matching rule wins).
CLOSE_ROUTE = {"method": "PATCH", "path": "*/sobjects/Opportunity/*"}


@dataclass(frozen=True)
class FaultRates:
    """Share of requests that fail, per kind, on every route revbridge uses."""

    server_error: float = 0.10
    rate_limited: float = 0.03
    commit_then_drop: float = 0.05
    duplicates: float = 0.30
    #: Share of invoices whose customer's card is declined before a good one pays.
    declines: float = 0.10

    def rule(self, path: str) -> dict[str, Any]:
        half = round(self.server_error / 2, 6)
        return {
            "path": path,
            "errors": {
                "500": half,
                "503": round(self.server_error - half, 6),
                "429": self.rate_limited,
            },
            "retry_after_s": 1,
            "commit_then_drop_rate": self.commit_then_drop,
        }


def fault_plan(rates: FaultRates, seed: int) -> dict[str, dict[str, Any]]:
    """The ``PUT /_sandbox/faults`` body of each sandbox."""
    plan: dict[str, dict[str, Any]] = {}
    for index, (name, paths) in enumerate(ROUTES.items()):
        rules = [rates.rule(path) for path in paths]
        config: dict[str, Any] = {"seed": seed * 10 + index, "rules": rules}
        if name == "salesforce":
            config["rules"] = [CLOSE_ROUTE, *rules]
            config["webhooks"] = {
                "duplicate_rate": rates.duplicates,
                "reorder_rate": rates.duplicates,
            }
        plan[name] = config
    return plan


@dataclass(frozen=True)
class Injected:
    """What the sandboxes injected during the run, summed over the four."""

    server_errors: int
    rate_limited: int
    dropped: int
    by_sandbox: dict[str, dict[str, int]]

    @classmethod
    def from_counts(cls, counts: dict[str, dict[str, int]]) -> Injected:
        def total(match: str) -> int:
            return sum(n for kinds in counts.values() for k, n in kinds.items() if match in k)

        server = sum(
            n
            for kinds in counts.values()
            for kind, n in kinds.items()
            if kind.startswith("error_5")
        )
        return cls(server, total("error_429"), total("commit_then_drop"), counts)
