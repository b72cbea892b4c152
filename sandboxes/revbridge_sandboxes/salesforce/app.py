"""The Salesforce sandbox application: routes, options and wiring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge_sandboxes.control import Sandbox, SnapshotFile
from revbridge_sandboxes.faults import FaultConfig, FaultInjector, Receive, Scope, Send
from revbridge_sandboxes.salesforce import composite, resources, sobjects
from revbridge_sandboxes.salesforce.api import (
    Call,
    Handler,
    available_versions,
    endpoint,
    json_response,
)
from revbridge_sandboxes.salesforce.auth import (
    Credentials,
    base_url,
    form_params,
    oauth_error,
    token_response,
)
from revbridge_sandboxes.salesforce.cometd import CometdServer
from revbridge_sandboxes.salesforce.errors import fault_error_body, not_found
from revbridge_sandboxes.salesforce.org import ORG_ID, SalesforceOrg
from revbridge_sandboxes.salesforce.relay import DEFAULT_SECRET, ChangeRelay
from revbridge_sandboxes.salesforce.sandbox_routes import SandboxControls
from revbridge_sandboxes.salesforce.schema import Field
from revbridge_sandboxes.webhooks import WebhookSender

DEFAULT_PORT = 8701
_ALL_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]
_DATA = "/services/data/{version}"


def create_app(
    *,
    faults: FaultConfig | None = None,
    persist: SnapshotFile | None = None,
    client_id: str = "revbridge-sandbox-client",
    client_secret: str = "revbridge-sandbox-secret",  # noqa: S107 - sandbox credentials
    username: str = "integration@revbridge.example",
    password: str = "sandbox-password",  # noqa: S107 - sandbox credentials
    security_token: str = "",
    currencies: Sequence[str] = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY"),
    corporate_currency: str = "USD",
    daily_api_limit: int = 1_000_000,
    session_timeout_s: float | None = 7200.0,
    cdc_entities: Sequence[str] = ("Account", "Opportunity", "OpportunityLineItem"),
    cdc_retention: int = 100_000,
    cdc_webhooks: Sequence[str] = (),
    cdc_webhook_secret: str = DEFAULT_SECRET,
    cometd_timeout_s: float = 110.0,
    custom_fields: Mapping[str, Sequence[Field]] | None = None,
) -> Sandbox:
    """Build the Salesforce sandbox (see the package docstring for what it emulates).

    ``client_id``/``client_secret`` identify the connected app; ``username``/``password``
    (optionally followed by ``security_token``) the integration user for the password
    grant. ``currencies`` are the org's active currencies (``corporate_currency`` is the
    default ``CurrencyIsoCode``). ``daily_api_limit`` is the rolling 24-hour API
    allocation. Sessions expire after ``session_timeout_s`` idle seconds (None: never).
    Change events are kept for ``cdc_entities`` (the last ``cdc_retention`` of them),
    pushed to each of ``cdc_webhooks`` signed with ``cdc_webhook_secret``, and CometD
    ``/meta/connect`` holds for at most ``cometd_timeout_s``. ``custom_fields`` adds
    fields by object name (build them with :mod:`.schema`'s ``text``, ``picklist``...).
    """
    org = SalesforceOrg(
        credentials=Credentials(client_id, client_secret, username, password, security_token),
        currencies=currencies,
        corporate_currency=corporate_currency,
        daily_api_limit=daily_api_limit,
        session_timeout_s=session_timeout_s,
        cdc_entities=cdc_entities,
        cdc_retention=cdc_retention,
        custom_fields=custom_fields,
    )
    injector = FaultInjector(faults)
    relay = ChangeRelay(WebhookSender(injector), cdc_webhooks, cdc_webhook_secret)
    org.cdc.listeners.append(relay)
    org.on_reset.append(relay.reset)
    org.extras = relay.delivery_log
    app = Starlette(routes=_routes(org, relay, CometdServer(org, cometd_timeout_s)))
    return Sandbox("salesforce", _strip_slash(app), org, fault_error_body, injector, persist)


def _routes(org: SalesforceOrg, relay: ChangeRelay, cometd: CometdServer) -> list[Route]:
    async def versions(request: Request) -> Response:
        return json_response(available_versions())

    async def token(request: Request) -> Response:
        params = await form_params(request)
        return token_response(
            params,
            request.headers.get("authorization"),
            org.credentials,
            lambda: org.sessions.issue(org.user_id),
            base_url(request),
            ORG_ID,
        )

    async def revoke(request: Request) -> Response:
        params = await form_params(request)
        if org.sessions.revoke(params.get("token", "")):
            return Response(status_code=200)
        return oauth_error("unsupported_token_type", "this token type is not supported")

    async def unknown(request: Request) -> Response:
        return not_found().response()

    async def missing(call: Call) -> Response:
        raise not_found()

    routes = [
        Route("/services/data", versions, methods=["GET", "HEAD"]),
        Route("/services/oauth2/token", token, methods=["POST"]),
        Route("/services/oauth2/revoke", revoke, methods=["POST"]),
        Route("/cometd/{version}", cometd.handle, methods=["POST"]),
        *SandboxControls(org, relay).routes(),
    ]
    for suffix, handlers in [*resources.ROUTES, *sobjects.ROUTES]:
        routes.append(Route(_DATA + suffix, endpoint(org, handlers), methods=_ALL_METHODS))
    for suffix, handlers, min_version in composite.ROUTES:
        routes.append(
            Route(_DATA + suffix, endpoint(org, handlers, min_version), methods=_ALL_METHODS)
        )
    everything: dict[str, Handler] = dict.fromkeys(_ALL_METHODS, missing)
    routes.append(Route(_DATA + "/{rest:path}", endpoint(org, everything), methods=_ALL_METHODS))
    routes.append(Route("/{rest:path}", unknown, methods=_ALL_METHODS))
    return routes


def _strip_slash(app: Starlette) -> Any:
    """Treat ``/x/`` as ``/x`` (clients such as simple-salesforce add trailing slashes)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope = {**scope, "path": scope["path"].rstrip("/") or "/"}
            raw = scope.get("raw_path")
            if isinstance(raw, bytes):
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await app(scope, receive, send)

    return wrapped
