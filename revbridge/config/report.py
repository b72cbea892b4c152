"""What validating a policy file produces: every problem, and the policy when there is none."""

from __future__ import annotations

from dataclasses import dataclass, field

from revbridge.config.policy import Policy


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, pointing at the offending node (1-based line and column)."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


@dataclass
class Report:
    """The outcome of :func:`revbridge.config.load.validate_file`.

    ``policy`` is set only when ``problems`` is empty; ``sha256`` is the policy hash whenever
    the file could be parsed as YAML.
    """

    file: str
    problems: list[Problem] = field(default_factory=list)
    policy: Policy | None = None
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file is a valid policy."""
        return not self.problems and self.policy is not None

    def summary(self) -> str:
        """One line: what the policy holds, or how many problems were found."""
        if self.policy is None:
            count = len(self.problems)
            return f"{self.file}: {count} problem{'' if count == 1 else 's'}"
        policy = self.policy
        parts = [
            _count(len(policy.systems), "system"),
            _count(len(policy.legal_entities), "legal entity", "legal entities"),
            _count(len(policy.products), "product"),
            _count(len(policy.routing.rules), "routing rule"),
            f"policy sha256 {(self.sha256 or '')[:12]}",
        ]
        return ", ".join(parts)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
