"""``/healthz`` (the process answers) and ``/readyz`` (the database answers): both open."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from revbridge.api.deps import Context
from revbridge.api.problems import problem
from revbridge.service.database import answers

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database does not answer"}})
def readyz(context: Context) -> JSONResponse:
    """The database answers."""
    if not answers(context.engine):
        return problem(503, "the database does not answer")
    return JSONResponse({"status": "ready"})
