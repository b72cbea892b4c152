"""The overview page: deals by state today, open cases against their SLA, business
latencies over time (p50/p95), the CRM → ERP sync lag and the alerts that are firing."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from revbridge.config.policy import Sla
from revbridge.console.charts import latency_chart
from revbridge.console.rendering import page
from revbridge.console.session import ConsoleDep, SignedIn
from revbridge.service import figures

router = APIRouter()


@router.get("/")
def overview(
    request: Request, user: SignedIn, console: ConsoleDep, window: str = "7d"
) -> HTMLResponse:
    if window not in figures.WINDOWS:
        raise HTTPException(400, f"window must be one of {', '.join(figures.WINDOWS)}.")
    policy = console.context.policy
    sla = policy.sla if policy is not None else Sla()
    shown = figures.overview(console.context.engine, sla, window)
    bucket = figures.WINDOWS[window][1]
    charts = [(s, latency_chart(s, bucket)) for s in shown.series]
    return page(
        request,
        "overview.html",
        user,
        overview=shown,
        charts=charts,
        windows=list(figures.WINDOWS),
    )
