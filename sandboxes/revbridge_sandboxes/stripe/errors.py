"""Stripe's error model: ``{"error": {type, code, message, param, doc_url, ...}}``.

One exception, :class:`StripeError`, carries everything the response needs. Its
``validation`` flag marks errors raised while checking parameters, before the
endpoint starts executing: Stripe does not save those under an idempotency key.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes/"
LOGS = "https://dashboard.stripe.com/test/logs/"
RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. You can learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)
NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)

NO_PAYMENT_METHOD_MESSAGE = (
    "This customer has no attached payment source or default payment method. Please consider "
    "adding a default payment method. For more information, visit "
    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting"
    "#payment-method-priority."
)
#: decline code → (error code, message), as Stripe answers a declined charge
_DECLINES = {
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
    "processing_error": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}


class StripeError(Exception):
    """An API error rendered in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        validation: bool = False,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.validation = validation
        self.headers = headers or {}
        self.extra = extra

    def body(self, request_id: str | None = None, now: int | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOCS + self.code.replace("_", "-")
        error.update(self.extra)
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        if request_id and self.code and self.status != 429:
            suffix = f"?t={now}" if now is not None else ""
            error["request_log_url"] = f"{LOGS}{request_id}{suffix}"
        error["type"] = self.type
        return {"error": error}

    # -- the errors every endpoint can raise -------------------------------------------

    @classmethod
    def invalid(
        cls, message: str, param: str | None = None, code: str | None = None
    ) -> StripeError:
        """A malformed request: nothing executed, nothing saved."""
        return cls(400, message, param=param, code=code, validation=True)

    @classmethod
    def unknown_params(cls, names: list[str]) -> StripeError:
        noun = "parameter" if len(names) == 1 else "parameters"
        message = f"Received unknown {noun}: {', '.join(names)}"
        return cls(400, message, code="parameter_unknown", param=names[0], validation=True)

    @classmethod
    def missing(cls, param: str) -> StripeError:
        message = f"Missing required param: {param}."
        return cls(400, message, code="parameter_missing", param=param, validation=True)

    @classmethod
    def no_such(cls, noun: str, object_id: str, param: str = "id") -> StripeError:
        return cls(404, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)

    @classmethod
    def state(cls, message: str, param: str | None = None, code: str | None = None) -> StripeError:
        """The request is well-formed but the object's state does not allow it."""
        return cls(400, message, param=param, code=code)

    @classmethod
    def unrecognized_url(cls, method: str, path: str) -> StripeError:
        message = (
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/."
        )
        return cls(404, message, validation=True)

    @classmethod
    def rate_limited(cls) -> StripeError:
        return cls(429, RATE_LIMIT_MESSAGE, code="rate_limit", validation=True)

    @classmethod
    def card_declined(cls, decline_code: str = "generic_decline") -> StripeError:
        code, message = _DECLINES.get(decline_code, ("card_declined", "Your card was declined."))
        return cls(402, message, type="card_error", code=code, decline_code=decline_code)

    @classmethod
    def no_payment_method(cls) -> StripeError:
        """A charge with no payment method to use (``/pay``, creating a subscription)."""
        return cls(400, NO_PAYMENT_METHOD_MESSAGE)

    @classmethod
    def api_error(cls, message: str = "An unknown error occurred") -> StripeError:
        return cls(500, message, type="api_error")
