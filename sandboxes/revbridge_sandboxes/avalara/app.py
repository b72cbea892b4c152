"""The AvaTax REST v2 emulator: routes, authentication wrapper and ``create_app``.

Routes (all under ``/api/v2``, Basic or Bearer auth except ``utilities/ping``):

* ``GET utilities/ping``
* ``POST transactions/create``, ``POST transactions/createoradjust``
* ``GET transactions/{id}``
* ``GET companies/{companyCode}/transactions`` (``$filter``, ``$orderBy``, ``$top``,
  ``$skip``, ``$include``; ``@nextLink`` paging — see :mod:`.listing`)
* ``GET companies/{companyCode}/transactions/{transactionCode}`` (``documentType``)
* ``POST companies/{companyCode}/transactions/{transactionCode}/commit|void|adjust``
* ``GET companies`` (``$top``, ``$skip``), ``GET companies/{companyId}/nexus``
* ``POST|GET addresses/resolve``

Sandbox-only: ``POST /_sandbox/transactions/lock`` with ``{"companyCode", "code",
"documentType"?, "locked"?}`` marks a document as reported to a tax authority.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge_sandboxes.avalara import errors
from revbridge_sandboxes.avalara.addresses import resolve
from revbridge_sandboxes.avalara.auth import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_BEARER_TOKENS,
    DEFAULT_CREDENTIALS,
    Authenticator,
)
from revbridge_sandboxes.avalara.companies import (
    Company,
    check_companies,
    company_model,
    default_companies,
    nexus_models,
)
from revbridge_sandboxes.avalara.payloads import AddressInput, read_address, read_json, read_object
from revbridge_sandboxes.avalara.render import API_VERSION, json_response
from revbridge_sandboxes.avalara.state import AvalaraState
from revbridge_sandboxes.avalara.transactions import TransactionApi
from revbridge_sandboxes.control import Sandbox, SnapshotFile
from revbridge_sandboxes.faults import FaultConfig, FaultInjector

DEFAULT_PORT = 8704
log = logging.getLogger(__name__)
Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler, auth: Authenticator | None) -> Handler:
    """Authenticate (unless ``auth`` is None) and turn every failure into an AvaTax body."""

    async def run(request: Request) -> Response:
        try:
            if auth is not None:
                auth.identify(request.headers.get("authorization"))
            return await handler(request)
        except errors.AvaTaxError as exc:
            return json_response(exc.body(), exc.status)
        except Exception:
            log.exception("avalara sandbox: unhandled error on %s", request.url.path)
            error = errors.unhandled()
            return json_response(error.body(), error.status)

    return run


class AccountApi:
    """Ping, companies, nexus and address resolution."""

    def __init__(self, state: AvalaraState, auth: Authenticator) -> None:
        self.state = state
        self.auth = auth

    async def ping(self, request: Request) -> Response:
        principal = self.auth.try_identify(request.headers.get("authorization"))
        if principal is None:
            return json_response(
                {"version": API_VERSION, "authenticated": False, "authenticationType": "None"}
            )
        default = self.state.company("")
        return json_response(
            {
                "version": API_VERSION,
                "authenticated": True,
                "authenticationType": principal.authentication_type,
                "authenticatedUserName": principal.user_name,
                "authenticatedUserId": principal.user_id,
                "authenticatedAccountId": principal.account_id,
                "authenticatedCompanyId": default.id,
                "crmid": "0",
            }
        )

    async def companies(self, request: Request) -> Response:
        models = [company_model(c, self.auth.account_id) for c in self.state.companies]
        return json_response(_page(request, models))

    async def nexus(self, request: Request) -> Response:
        company = self.state.company_by_id(request.path_params["companyId"])
        return json_response(_page(request, nexus_models(company)))

    async def resolve_post(self, request: Request) -> Response:
        reader = read_object(await read_json(request))
        address = read_address(reader)
        if reader.errors:
            raise errors.invalid_request(reader.errors)
        return json_response(resolve(address))

    async def resolve_get(self, request: Request) -> Response:
        q = request.query_params
        address = AddressInput(
            line1=q.get("line1", "").strip(),
            line2=q.get("line2", "").strip(),
            line3=q.get("line3", "").strip(),
            city=q.get("city", "").strip(),
            region=q.get("region", "").strip(),
            country=q.get("country", "").strip(),
            postal_code=q.get("postalCode", "").strip(),
        )
        return json_response(resolve(address))


def _page(request: Request, models: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``FetchResult``: ``@recordsetCount`` and the ``$skip``/``$top`` window."""
    skip = _int_param(request, "$skip", 0)
    top = _int_param(request, "$top", 1000)
    return {"@recordsetCount": len(models), "value": models[skip : skip + top]}


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise errors.invalid_request([errors.model_state_invalid(name, raw, "Int32")])
    return int(raw)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    return Response(b"", status_code=status)


def _routes(state: AvalaraState, auth: Authenticator) -> list[Route]:
    tx = TransactionApi(state)
    account = AccountApi(state, auth)
    doc = "/api/v2/companies/{companyCode}/transactions/{transactionCode}"
    table: list[tuple[str, Handler, str, bool]] = [
        ("/api/v2/utilities/ping", account.ping, "GET", False),
        ("/api/v2/transactions/create", tx.create, "POST", True),
        ("/api/v2/transactions/createoradjust", tx.create_or_adjust, "POST", True),
        ("/api/v2/transactions/{id}", tx.get_by_id, "GET", True),
        ("/api/v2/companies/{companyCode}/transactions", tx.list, "GET", True),
        (doc, tx.get, "GET", True),
        (doc + "/commit", tx.commit, "POST", True),
        (doc + "/void", tx.void, "POST", True),
        (doc + "/adjust", tx.adjust, "POST", True),
        ("/api/v2/companies", account.companies, "GET", True),
        ("/api/v2/companies/{companyId}/nexus", account.nexus, "GET", True),
        ("/api/v2/addresses/resolve", account.resolve_post, "POST", True),
        ("/api/v2/addresses/resolve", account.resolve_get, "GET", True),
        ("/_sandbox/transactions/lock", tx.lock, "POST", False),
    ]
    return [
        Route(path, _guarded(handler, auth if secured else None), methods=[method])
        for path, handler, method, secured in table
    ]


def create_app(
    *,
    faults: FaultConfig | None = None,
    persist: SnapshotFile | None = None,
    companies: Iterable[Company] | None = None,
    credentials: Mapping[str, str] | None = None,
    bearer_tokens: Iterable[str] | None = None,
    account_id: int = DEFAULT_ACCOUNT_ID,
) -> Sandbox:
    """An AvaTax REST v2 sandbox.

    ``companies`` defaults to :func:`default_companies`; ``credentials`` maps Basic user
    names / account ids to passwords / license keys; ``bearer_tokens`` lists accepted
    tokens; ``account_id`` is the account reported for user-name and bearer logins.
    """
    state = AvalaraState(check_companies(companies or default_companies()))
    auth = Authenticator(
        DEFAULT_CREDENTIALS if credentials is None else credentials,
        DEFAULT_BEARER_TOKENS if bearer_tokens is None else bearer_tokens,
        account_id,
    )
    app = Starlette(
        routes=_routes(state, auth),
        exception_handlers={404: _not_found, 405: _not_found},
    )
    return Sandbox("avalara", app, state, errors.fault_error_body, FaultInjector(faults), persist)
