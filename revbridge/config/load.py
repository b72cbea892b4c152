"""Read, validate, hash and compare policy files.

:func:`validate_file` reports every problem of a file in one run, each as
``FILE:LINE:COL: message`` pointing at the offending node: YAML syntax errors, duplicate
keys, schema errors (mapped from their pydantic ``loc`` to the node), cross-reference
checks and inline secrets. :func:`load_policy` returns the policy or raises
:class:`~revbridge.errors.ConfigError` listing them all. :func:`diff_files` says what changed
between two versions in business terms.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from revbridge.config.checks import cross_check
from revbridge.config.diff import diff_policies
from revbridge.config.policy import Policy
from revbridge.config.report import Problem, Report
from revbridge.config.secretscan import secret_findings
from revbridge.config.sections import Finding, sections_from_data, sections_from_policy
from revbridge.config.source import Document, PathItem, content_hash, parse
from revbridge.config.systems import SYSTEM_KINDS
from revbridge.errors import ConfigError

_INSTANCE_OF = re.compile(r" or instance of \w+")

__all__ = [
    "Problem",
    "Report",
    "diff_files",
    "diff_policies",
    "load_policy",
    "policy_hash",
    "validate_file",
    "validate_text",
]


def validate_file(path: str | os.PathLike[str]) -> Report:
    """Every problem of the policy file at ``path``, and the policy when there is none."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Report(file, [Problem(file, 1, 1, "the file is not UTF-8 text")])
    except OSError as exc:
        return Report(file, [Problem(file, 1, 1, f"cannot read the file: {exc.strerror}")])
    return validate_text(text, file)


def validate_text(text: str, file: str = "<policy>") -> Report:
    """Like :func:`validate_file`, for policy text; ``file`` names it in the problems."""
    document, problems = parse(text, file)
    if document is None:
        return Report(file, problems)
    findings: list[Finding] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(document.data)
    except ValidationError as exc:
        findings.extend(_schema_findings(exc, document))
    if policy is not None:
        sections = sections_from_policy(policy)
    else:
        sections = sections_from_data(document.data)
    findings.extend(cross_check(sections))
    findings.extend(secret_findings(document.data))
    problems.extend(document.problem(f.path, f.message, f.anchor) for f in findings)
    problems = sorted(dict.fromkeys(problems), key=lambda p: (p.line, p.col))
    return Report(
        file,
        problems,
        policy if not problems else None,
        content_hash(document.data),
    )


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """The policy at ``path``; raises ConfigError listing every problem when it is invalid."""
    report = validate_file(path)
    if report.policy is None:
        count = len(report.problems)
        raise ConfigError(
            f"{report.file}: {count} problem{'' if count == 1 else 's'} in the policy file",
            [str(problem) for problem in report.problems],
        )
    return report.policy


def policy_hash(path_or_text: str | os.PathLike[str]) -> str:
    """sha256 (hex) of the policy's canonical content.

    The content is the parsed document as sorted, compact JSON, so comments, key order,
    quoting and layout do not change the hash; any value does. A ``Path``, or a one-line
    string naming an existing file or ending in ``.yaml``/``.yml``, is read; any other
    string is policy text.
    """
    text, file = _text_of(path_or_text)
    document, problems = parse(text, file)
    if document is None:
        raise ConfigError(f"{file}: cannot hash the policy", [str(p) for p in problems])
    return content_hash(document.data)


def _text_of(path_or_text: str | os.PathLike[str]) -> tuple[str, str]:
    if isinstance(path_or_text, str):
        one_line = "\n" not in path_or_text
        named = one_line and path_or_text.strip().endswith((".yaml", ".yml"))
        if not (named or (one_line and Path(path_or_text).is_file())):
            return path_or_text, "<policy>"
    file = str(path_or_text)
    try:
        return Path(path_or_text).read_text(encoding="utf-8"), file
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the file: {exc}") from exc


def diff_files(old_path: str | os.PathLike[str], new_path: str | os.PathLike[str]) -> list[str]:
    """What changed from the policy at ``old_path`` to the one at ``new_path``, in business terms.

    Both files must be valid (ConfigError otherwise).
    """
    return diff_policies(load_policy(old_path), load_policy(new_path))


def _schema_findings(exc: ValidationError, document: Document) -> list[Finding]:
    findings = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        findings.append(_finding(document, loc, error["type"], error["msg"], error.get("ctx")))
    return findings


def _finding(
    document: Document, loc: tuple[PathItem, ...], kind: str, msg: str, ctx: Any
) -> Finding:
    if loc and loc[-1] == "[key]":
        return Finding(loc[:-1], f"{_label(document, loc[:-1])}: {msg}", anchor="key")
    if kind == "missing":
        return _missing(document, loc)
    if kind == "extra_forbidden":
        where = _label(document, loc[:-1])
        prefix = f"{where}: " if where else ""
        return Finding(loc, f"{prefix}unknown key '{loc[-1]}'", anchor="key")
    if kind == "union_tag_invalid":
        kinds = ", ".join(SYSTEM_KINDS)
        tag = ctx.get("tag") if isinstance(ctx, dict) else "?"
        message = f"{_label(document, loc)}: unknown system kind '{tag}'; supported: {kinds}"
        return Finding((*loc, "kind"), message)
    if kind == "union_tag_not_found":
        kinds = ", ".join(SYSTEM_KINDS)
        return Finding(loc, f"{_label(document, loc)}: missing required key 'kind' ({kinds})")
    message = _INSTANCE_OF.sub("", msg.removeprefix("Value error, "))
    return Finding(loc, f"{_label(document, loc)}: {message}" if loc else message)


def _missing(document: Document, loc: tuple[PathItem, ...]) -> Finding:
    parent, name = loc[:-1], loc[-1]
    if len(loc) == 3 and loc[0] == "products" and name == "erp_item":
        message = f"product {loc[1]} has no ERP mapping: set erp_item to the ERP item's external id"
        return Finding(parent, message, anchor="key")
    where = _label(document, parent)
    prefix = f"{where}: " if where else ""
    return Finding(parent, f"{prefix}missing required key '{name}'", anchor="key")


def _label(document: Document, loc: tuple[PathItem, ...]) -> str:
    """``loc`` as a dotted path (``routing.rules[2].country``), without union tags."""
    found, complete = document.resolve(loc)
    items = found if complete else list(loc)
    label = ""
    for item in items:
        if isinstance(item, int):
            label += f"[{item}]"
        else:
            label += f".{item}" if label else str(item)
    return label
