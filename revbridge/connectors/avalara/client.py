"""Thin typed calls on AvaTax REST v2, and its authentication header.

Paths are ``/api/v2/transactions/createoradjust`` and
``/api/v2/companies/{companyCode}/transactions/{transactionCode}/void|commit``. A code
placed in a path has ``/ + ? % #`` replaced by AvaTax's escapes (``_-ava2f-_``...), as
the API requires. Every call names the caller in ``X-Avalara-Client``. Answers are
AvaTax's own dicts with every JSON number read as an exact ``int`` or ``Decimal``.
"""

from __future__ import annotations

import base64
import json
import platform
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from revbridge import __version__
from revbridge.connectors.http import HttpCaller
from revbridge.errors import PermanentError

API = "/api/v2"
CREATE_OR_ADJUST_PATH = f"{API}/transactions/createoradjust"
#: Nested collections a quote needs back: the lines with their tax, not the details.
QUOTE_INCLUDE = "Lines"
_PATH_ESCAPES = {
    "%": "_-ava25-_",
    "/": "_-ava2f-_",
    "+": "_-ava2b-_",
    "?": "_-ava3f-_",
    "#": "_-ava23-_",
}

Record = dict[str, Any]


def client_header() -> str:
    """``X-Avalara-Client``: application; version; connector; connector version; machine."""
    connector = f"revbridge avalara connector; {__version__}"
    return f"revbridge; {__version__}; {connector}; {platform.node()}"


def path_code(code: str) -> str:
    """A company or transaction code as one URL path segment."""
    for char, escape in _PATH_ESCAPES.items():
        code = code.replace(char, escape)
    return quote(code, safe=":@")


def document_path(company_code: str, code: str, action: str) -> str:
    return f"{API}/companies/{path_code(company_code)}/transactions/{path_code(code)}/{action}"


def exact_json(response: httpx.Response) -> Record:
    """The body as a dict, numbers exact (``parse_float=Decimal``)."""
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PermanentError(
            f"AvaTax {response.status_code}: the answer is not a JSON object",
            status=response.status_code,
        )
    return body


class HeaderAuth:
    """A fixed ``Authorization`` header (Basic or Bearer); nothing to refresh."""

    def __init__(self, value: str) -> None:
        self._header = {"Authorization": value}

    @classmethod
    def basic(cls, user: str, secret: str) -> HeaderAuth:
        """Account id + license key, or user name + password."""
        return cls("Basic " + basic_token(user, secret))

    @classmethod
    def bearer(cls, token: str) -> HeaderAuth:
        return cls(f"Bearer {token}")

    def __repr__(self) -> str:
        return "HeaderAuth(***)"

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        return dict(self._header)

    async def refresh(self, client: httpx.AsyncClient) -> None:
        """Refused credentials stay refused: the 401 becomes an :class:`AuthError`."""


def basic_token(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")


class AvalaraClient:
    """The AvaTax calls the tax adapter needs, on one :class:`HttpCaller`."""

    def __init__(self, http: HttpCaller) -> None:
        self.http = http
        self._headers = {"X-Avalara-Client": client_header()}

    async def create_or_adjust(self, body: Record) -> Record:
        """``POST transactions/createoradjust``: record the document under its code, or
        adjust it (new version) when it exists. Keyed by the code, so safe to resend."""
        response = await self.http.call(
            "POST",
            CREATE_OR_ADJUST_PATH,
            operation="transactions.createoradjust",
            json_body=body,
            params={"$include": QUOTE_INCLUDE},
            headers=self._headers,
            idempotent=True,
        )
        return exact_json(response)

    async def void(self, company_code: str, code: str, document_type: str) -> Record:
        """``POST …/void`` with reason ``DocVoided``: the document becomes ``Cancelled``."""
        return await self._document_action(
            company_code, code, document_type, "void", {"code": "DocVoided"}
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _document_action(
        self, company_code: str, code: str, document_type: str, action: str, body: Record
    ) -> Record:
        response = await self.http.call(
            "POST",
            document_path(company_code, code, action),
            operation=f"transactions.{action}",
            json_body=body,
            params={"documentType": document_type},
            headers=self._headers,
            idempotent=True,
        )
        return exact_json(response)
