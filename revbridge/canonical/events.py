"""Business events: CloudEvents 1.0 envelopes around canonical data.

**Type naming.** ``EventType`` members are the bare business names (``order.accepted``); on
the wire, in the ``type`` attribute, they are always reverse-DNS qualified:
``com.revbridge.order.accepted`` (``EventType.ce_type``). ``BusinessEvent.type`` holds the
member and serialises the qualified form; the parser accepts only the qualified form.

**Data.** Each type carries one kind of data (``DATA_MODELS``): the order package for
opportunity, contract, order and subscription events, an ``Invoice`` or a ``Payment``, and a
JSON object for exception events (the exception case is modelled outside this package).

**Attributes.** The CloudEvents context attributes, plus three extensions: ``correlationid``
(required), ``causationid`` (the event or command that caused this one) and ``schemaversion``
(version of the canonical model the data follows). Any other top-level attribute is a further
extension (for example ``traceparent``): its name must be 1-20 characters of ``[a-z0-9]`` and
its value a string; ``BusinessEvent.extensions`` lists them.

``BusinessEvent``'s own JSON *is* the structured-mode CloudEvent; ``to_structured`` /
``from_structured`` and ``to_binary`` / ``from_binary`` (HTTP ``ce-*`` headers) wrap it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from revbridge.canonical.commerce import Order
from revbridge.canonical.finance import Invoice, Payment
from revbridge.canonical.ids import CorrelationId, check_id_characters
from revbridge.canonical.model import CanonicalModel, Instant, Text, utc_now

__all__ = [
    "DATA_MODELS",
    "SCHEMA_VERSION",
    "STRUCTURED_CONTENT_TYPE",
    "TYPE_PREFIX",
    "BusinessEvent",
    "EventData",
    "EventType",
    "from_binary",
    "from_structured",
    "to_binary",
    "to_structured",
]

TYPE_PREFIX = "com.revbridge."
SCHEMA_VERSION = "1"
"""Version of the canonical model that event data follows (the ``schemaversion`` extension)."""


class EventType(StrEnum):
    """What happened, in the business's words."""

    OPPORTUNITY_CLOSED_WON = "opportunity.closed_won"  # a deal was won in the CRM
    CONTRACT_APPROVED = "contract.approved"  # the contract terms were approved
    ORDER_ACCEPTED = "order.accepted"  # the ERP accepted the sales order
    INVOICE_POSTED = "invoice.posted"  # an invoice was issued and posted to receivables
    PAYMENT_RECEIVED = "payment.received"  # a payment was received
    PAYMENT_FAILED = "payment.failed"  # collecting a payment failed; the invoice is still due
    ENTITLEMENT_ACTIVATED = "entitlement.activated"  # the customer's products were provisioned
    SUBSCRIPTION_AMENDED = "subscription.amended"  # a running contract was amended
    EXCEPTION_RAISED = "exception.raised"  # work stopped and an owner must act
    EXCEPTION_RESOLVED = "exception.resolved"  # that work was resumed, compensated or cancelled

    @property
    def ce_type(self) -> str:
        """The CloudEvents ``type`` attribute: ``com.revbridge.order.accepted``."""
        return TYPE_PREFIX + self.value

    @classmethod
    def from_ce_type(cls, value: str) -> EventType:
        """Inverse of ``ce_type``; anything else raises ``ValueError``."""
        name = value.removeprefix(TYPE_PREFIX)
        if name == value or name not in cls._value2member_map_:
            raise ValueError(f"{value!r} is not a revbridge event type (com.revbridge.<event>)")
        return cls(name)


EventData = Order | Invoice | Payment | dict[str, JsonValue]

DATA_MODELS: dict[EventType, type[Order | Invoice | Payment] | None] = {
    EventType.OPPORTUNITY_CLOSED_WON: Order,
    EventType.CONTRACT_APPROVED: Order,
    EventType.ORDER_ACCEPTED: Order,
    EventType.INVOICE_POSTED: Invoice,
    EventType.PAYMENT_RECEIVED: Payment,
    EventType.PAYMENT_FAILED: Payment,
    EventType.ENTITLEMENT_ACTIVATED: None,
    EventType.SUBSCRIPTION_AMENDED: Order,
    EventType.EXCEPTION_RAISED: None,
    EventType.EXCEPTION_RESOLVED: None,
}
"""The data model each event type carries; None: a JSON object."""


def _parse_type(value: object) -> EventType:
    if isinstance(value, EventType):
        return value
    if not isinstance(value, str):
        raise ValueError("type must be a string such as 'com.revbridge.order.accepted'")
    return EventType.from_ce_type(value)


QualifiedEventType = Annotated[
    EventType,
    BeforeValidator(_parse_type),
    PlainSerializer(lambda member: member.ce_type, return_type=str),
    WithJsonSchema({"type": "string", "enum": [member.ce_type for member in EventType]}),
]

VisibleText = Annotated[Text, AfterValidator(check_id_characters)]
"""An id-like attribute (id, subject, causation, extensions): visible text, no control,
bidi or other format characters that could spoof what a person reads."""

UriReference = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$"
    ),
]
AbsoluteUri = Annotated[
    str, StringConstraints(max_length=2048, pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:[\x21-\x7e]+$")
]
JsonMediaType = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9!#$&^_.+\-]+/([A-Za-z0-9!#$&^_.\-]+\+)?json(\s*;.*)?$"),
]
_EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")


class BusinessEvent(CanonicalModel):
    """A CloudEvents 1.0 event carrying canonical data."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"propertyNames": {"pattern": "^[a-z0-9]{1,20}$"}},
    )
    __pydantic_extra__: dict[str, Annotated[str, AfterValidator(check_id_characters)]] = Field(
        init=False
    )

    specversion: Literal["1.0"] = "1.0"
    id: VisibleText = Field(default_factory=lambda: str(uuid.uuid4()))
    source: UriReference
    type: QualifiedEventType
    subject: VisibleText | None = None
    time: Instant = Field(default_factory=utc_now)
    datacontenttype: JsonMediaType = "application/json"
    dataschema: AbsoluteUri | None = None
    correlationid: CorrelationId
    causationid: VisibleText | None = None
    schemaversion: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")] = SCHEMA_VERSION
    data: EventData | None = None

    @classmethod
    def create(
        cls,
        type: EventType,
        data: EventData | None,
        *,
        source: str,
        correlationid: str,
        causationid: str | None = None,
        subject: str | None = None,
    ) -> BusinessEvent:
        """A new event with a fresh id and time; ``subject`` defaults to the data's id."""
        return cls(
            type=type,
            data=data,
            source=source,
            correlationid=correlationid,
            causationid=causationid,
            subject=subject or _subject_of(data),
        )

    @property
    def extensions(self) -> dict[str, str]:
        """Extension attributes beyond ``correlationid``, ``causationid``, ``schemaversion``."""
        return dict(self.__pydantic_extra__ or {})

    @model_validator(mode="before")
    @classmethod
    def _data_as_model(cls, raw: Any) -> Any:
        """A JSON object in ``data`` becomes the model the event type carries."""
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
            model = _data_model(raw.get("type"))
            if model is not None:
                raw = {**raw, "data": model.model_validate(raw["data"])}
        return raw

    @model_validator(mode="after")
    def _extensions_named_and_data_fits(self) -> BusinessEvent:
        for name in self.extensions:
            if not _EXTENSION_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a valid CloudEvents extension attribute name "
                    "(1-20 characters of a-z and 0-9)"
                )
        expected = DATA_MODELS[self.type]
        if self.data is not None and not isinstance(self.data, expected or dict):
            wanted = expected.__name__ if expected else "a JSON object"
            raise ValueError(
                f"{self.type.ce_type} carries {wanted}, not {type(self.data).__name__}"
            )
        return self


def _data_model(raw_type: object) -> type[Order | Invoice | Payment] | None:
    try:
        return DATA_MODELS[_parse_type(raw_type)]
    except ValueError:
        return None  # the type attribute's own validation reports it


def _subject_of(data: EventData | None) -> str | None:
    if isinstance(data, Order):
        return data.order_id
    if isinstance(data, Invoice):
        return data.invoice_id
    if isinstance(data, Payment):
        return data.payment_id
    return None


STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
"""The ``Content-Type`` of an event sent in structured mode."""

_DATA_ADAPTERS: dict[type[Any] | None, TypeAdapter[Any]] = {
    model: TypeAdapter(model if model is not None else dict[str, JsonValue])
    for model in set(DATA_MODELS.values())
}


def to_structured(event: BusinessEvent) -> bytes:
    """The event in the CloudEvents JSON format (absent optional attributes are omitted)."""
    attributes = event.model_dump(mode="json")
    kept = {name: value for name, value in attributes.items() if value is not None}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode()


def from_structured(body: bytes | str) -> BusinessEvent:
    """Parse a structured-mode CloudEvent; invalid input raises ``pydantic.ValidationError``."""
    return BusinessEvent.model_validate_json(body)


def to_binary(event: BusinessEvent) -> tuple[dict[str, str], bytes]:
    """HTTP binary mode: attributes as ``ce-*`` headers, ``Content-Type``, data as the body."""
    attributes = event.model_dump(mode="json")
    attributes.pop("data")
    headers = {"content-type": attributes.pop("datacontenttype")}
    for name, value in attributes.items():
        if value is not None:
            headers[f"ce-{name}"] = _encode_header_value(str(value))
    body = (
        b"" if event.data is None else _DATA_ADAPTERS[DATA_MODELS[event.type]].dump_json(event.data)
    )
    return headers, body


def from_binary(headers: Mapping[str, str], body: bytes) -> BusinessEvent:
    """Parse an HTTP binary-mode CloudEvent (header names are case-insensitive).

    Anything that is not a valid revbridge event raises ``ValueError`` (invalid attributes or
    data: its subclass ``pydantic.ValidationError``).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    if "ce-specversion" not in lowered:
        raise ValueError("not a binary-mode CloudEvent: the ce-specversion header is missing")
    attributes: dict[str, Any] = {
        name[3:]: unquote(value) for name, value in lowered.items() if name.startswith("ce-")
    }
    if "content-type" in lowered:
        attributes["datacontenttype"] = lowered["content-type"]
    if body:
        model = DATA_MODELS[EventType.from_ce_type(attributes.get("type", ""))]
        attributes["data"] = _DATA_ADAPTERS[model].validate_json(body)
    return BusinessEvent.model_validate(attributes)


def _encode_header_value(value: str) -> str:
    """Percent-encode space, ``"``, ``%`` and anything outside printable ASCII (HTTP binding)."""
    return "".join(
        char if "!" <= char <= "~" and char not in '"%' else quote(char, safe="") for char in value
    )
