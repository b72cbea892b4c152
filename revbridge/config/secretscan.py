"""A heuristic scan for secrets written into the policy file.

The schema already refuses a credential that is not ``{env: VARIABLE_NAME}``. This scan
looks everywhere else for what a secret usually looks like: a key named like one (``password``,
``client_secret``, ``api_key``, ``token``...) holding a literal string, a value in a
well-known secret format (Stripe ``sk_live_...`` keys, webhook signing secrets, private
keys, AWS access keys, Slack and GitHub tokens, JSON Web Tokens), or a URL with a password.
Findings never repeat the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from revbridge.config.sections import Finding
from revbridge.config.source import PathItem

_SECRET_WORDS = frozenset(
    {"secret", "password", "passwd", "pwd", "passphrase", "token", "apikey", "credential"}
)
_SECRET_KEY = re.compile(r"(^|_)(api|access|secret|private|signing|client|webhook)_?key$")
_SECRET_VALUES = (
    (re.compile(r"^[rs]k_(live|test)_[A-Za-z0-9]{8,}"), "a Stripe secret key"),
    (re.compile(r"^whsec_[A-Za-z0-9]{8,}"), "a webhook signing secret"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"^(AKIA|ASIA)[0-9A-Z]{16}$"), "an AWS access key"),
    (re.compile(r"^xox[abeprs]-[A-Za-z0-9-]{8,}"), "a Slack token"),
    (re.compile(r"^gh[pousr]_[A-Za-z0-9]{20,}"), "a GitHub token"),
    (re.compile(r"^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."), "a JSON Web Token"),
    (re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@"), "a URL with a password"),
)
_HINT = "keep secrets in environment variables and reference them as {env: VARIABLE_NAME}"


def secret_findings(data: Any) -> list[Finding]:
    """Literal secrets outside the places the schema already checks."""
    return list(_scan(data, ()))


def _scan(value: Any, path: tuple[PathItem, ...]) -> Iterator[Finding]:
    if _schema_checked(path):
        return
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = (*path, key)
            named = isinstance(key, str) and _secret_name(key)
            if named and isinstance(child, str) and child and not _schema_checked(child_path):
                yield Finding(
                    child_path,
                    f"inline secret: '{key}' holds a literal value; {_HINT}",
                    anchor="value",
                )
            else:
                yield from _scan(child, child_path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _scan(child, (*path, index))
    elif isinstance(value, str):
        for pattern, what in _SECRET_VALUES:
            if pattern.search(value):
                yield Finding(path, f"inline secret: this value looks like {what}; {_HINT}")
                return


def _secret_name(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    words = set(lowered.split("_"))
    return bool(words & _SECRET_WORDS) or bool(_SECRET_KEY.search(lowered))


def _schema_checked(path: tuple[PathItem, ...]) -> bool:
    """Credentials, alert webhooks and entitlement secrets are references by schema; their
    errors come from it."""
    if len(path) == 3 and path[0] == "systems" and path[2] == "credentials":
        return True
    if len(path) == 4 and path[:2] == ("entitlements", "endpoints") and path[3] == "secret":
        return True
    return len(path) == 3 and path[0] == "alerts" and path[2] == "webhook"
