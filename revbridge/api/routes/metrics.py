"""``GET /metrics``: Prometheus text format — connector calls made by this process and the
business SLAs read from the store at scrape time (see docs/observability.md).

Scraping needs an API key with the ``read`` scope (Prometheus sends it as a bearer token).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from revbridge.api.auth import Reader
from revbridge.api.deps import Context
from revbridge.observability.metrics import render

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(context: Context, _who: Reader) -> Response:
    """Technical and business metrics in the Prometheus text format."""
    body, content_type = render(context.metrics)
    return Response(content=body, media_type=content_type)
