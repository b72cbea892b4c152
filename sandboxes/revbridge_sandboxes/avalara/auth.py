"""HTTP Basic (``username:password`` or ``accountId:licenseKey``) and Bearer authentication.

A numeric Basic user name is an account id with its license key; anything else is a user
name with its password. Both kinds, and bearer tokens, come from the configuration.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from revbridge_sandboxes.avalara import errors

DEFAULT_ACCOUNT_ID = 2000134479
DEFAULT_CREDENTIALS: Mapping[str, str] = {
    str(DEFAULT_ACCOUNT_ID): "4D0F3A5B2C1E9F87",
    "sandbox@revbridge.test": "sandbox-password",
}
DEFAULT_BEARER_TOKENS: tuple[str, ...] = ("sandbox-bearer-token",)


@dataclass(frozen=True)
class Principal:
    """Who a request was authenticated as, as ``utilities/ping`` reports it."""

    authentication_type: str  # UsernamePassword | AccountIdLicenseKey | OpenIdBearerToken
    user_name: str
    user_id: int
    account_id: int


class Authenticator:
    """Checks ``Authorization`` headers against configured credentials and tokens."""

    def __init__(
        self,
        credentials: Mapping[str, str],
        bearer_tokens: Iterable[str],
        account_id: int = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self._credentials = dict(credentials)
        self._tokens = tuple(bearer_tokens)
        self.account_id = account_id
        self._user_ids = {name: 100000 + i for i, name in enumerate(sorted(self._credentials))}

    def identify(self, header: str | None) -> Principal:
        """The principal of ``header``; raises the AvaTax 401 error when it is wrong."""
        if not header or not header.strip():
            raise errors.authentication_incomplete()
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            return self._basic(value)
        if scheme.lower() == "bearer" and value:
            return self._bearer(value)
        raise errors.authentication_incomplete()

    def try_identify(self, header: str | None) -> Principal | None:
        try:
            return self.identify(header)
        except errors.AvaTaxError:
            return None

    def _basic(self, value: str) -> Principal:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise errors.basic_auth_incorrect() from None
        name, colon, secret = decoded.partition(":")
        if not colon or not name:
            raise errors.basic_auth_incorrect()
        expected = self._credentials.get(name)
        if expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise errors.authentication_failed()
        if name.isdigit():
            return Principal("AccountIdLicenseKey", name, 0, int(name))
        return Principal("UsernamePassword", name, self._user_ids[name], self.account_id)

    def _bearer(self, token: str) -> Principal:
        for index, known in enumerate(self._tokens):
            if hmac.compare_digest(known.encode(), token.encode()):
                return Principal(
                    "OpenIdBearerToken", "bearer-user", 200000 + index, self.account_id
                )
        raise errors.authentication_failed()
