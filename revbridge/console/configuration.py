"""Configuration: the active policy version, what changed from the one before it (in
business terms, :func:`revbridge.config.diff.diff_policies`) and the versions loaded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from revbridge.config.diff import diff_policies
from revbridge.config.load import validate_text
from revbridge.config.policy import Policy
from revbridge.console.rendering import page
from revbridge.console.session import ConsoleDep, SignedIn
from revbridge.observability.redaction import scrub_text
from revbridge.service import policies
from revbridge.service.policies import ConfigVersion

router = APIRouter()
HISTORY = 50


def _policy(version: ConfigVersion) -> Policy | None:
    return validate_text(version.content, version.source).policy


def changes(
    selected: ConfigVersion, previous: ConfigVersion | None
) -> list[tuple[str, str]] | None:
    """(group, change) lines from ``previous`` to ``selected``; None if one cannot be read."""
    if previous is None:
        return []
    old, new = _policy(previous), _policy(selected)
    if old is None or new is None:
        return None
    return [(g, change) for g, _, change in (x.partition(": ") for x in diff_policies(old, new))]


@router.get("/config")
def configuration(
    request: Request,
    user: SignedIn,
    console: ConsoleDep,
    version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> HTMLResponse:
    versions = policies.history(console.context.engine, HISTORY)
    if not versions and version is None:
        return page(request, "config.html", user, versions=[], selected=None)
    index = (
        0 if version is None else next((i for i, v in enumerate(versions) if v.id == version), -1)
    )
    if index < 0:
        raise HTTPException(
            404, f"There is no configuration version {version} among the last {HISTORY}."
        )
    selected = versions[index]
    previous = versions[index + 1] if index + 1 < len(versions) else None
    return page(
        request,
        "config.html",
        user,
        versions=versions,
        selected=selected,
        previous=previous,
        changes=changes(selected, previous),
        active=versions[0],
        content=scrub_text(selected.content),
    )
