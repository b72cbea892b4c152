"""``/healthz`` (the process answers) and ``/readyz`` (the database answers): both open."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from revbridge.api.deps import Context
from revbridge.api.problems import problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database does not answer"}})
def readyz(context: Context) -> JSONResponse:
    """The database answers."""
    try:
        with context.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return problem(503, "the database does not answer")
    return JSONResponse({"status": "ready"})
