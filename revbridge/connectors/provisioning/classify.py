"""A provisioning endpoint's answers as revbridge errors.

Any 2xx accepts the activation. A 5xx, a 408 or a 429 is the endpoint being down or
busy: retried with backoff (after ``Retry-After`` when it says). Any other answer is a
refusal that retrying cannot change (``DataError`` for a 400, ``AuthError`` for 401/403):
the flow opens an ``entitlements.rejected`` case.
"""

from __future__ import annotations

import httpx

from revbridge.connectors.classification import BY_STATUS, Rule, make_error, rule_for
from revbridge.errors import ConnectorError, RetryableError

RULES: tuple[Rule, ...] = (Rule(RetryableError, statuses=range(408, 409)), *BY_STATUS)
MAX_REASON = 200


def classify(response: httpx.Response) -> ConnectorError | None:
    if response.is_success:
        return None
    reason = response.text.strip()[:MAX_REASON]
    message = f"the endpoint answered {response.status_code}" + (f": {reason}" if reason else "")
    return make_error(response, rule_for(RULES, response.status_code, []), [], message)
