"""``/v1/webhook_endpoints``: where events are delivered; ``secret`` is shown on create only."""

from __future__ import annotations

import re
from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import Arr, Bool, Metadata, Str, apply_metadata, spec

_EVENT = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)+)$")
EVENTS = Arr(Str(), max_items=500)
CREATE = spec(
    {
        "api_version": Str(),
        "connect": Bool(),
        "description": Str(),
        "enabled_events": EVENTS,
        "metadata": Metadata(),
        "url": Str(),
    },
    required=("enabled_events", "url"),
)
UPDATE = spec(
    {
        "description": Str(),
        "disabled": Bool(),
        "enabled_events": EVENTS,
        "metadata": Metadata(),
        "url": Str(),
    }
)
LIST = spec({}, listing=True)


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    url, events = _url(params["url"]), _events(params["enabled_events"])
    endpoint = state.add_webhook_endpoint(
        url,
        events,
        api_version=params.get("api_version"),
        description=params.get("description"),
        metadata=params.get("metadata"),
    )
    body = render(call, endpoint)
    body["secret"] = endpoint["_secret"]
    return body


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.webhook_endpoints.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    params = call.params
    endpoint = call.state.webhook_endpoints.require(call.arg("id"))
    if params.get("url") is not None:
        endpoint["url"] = _url(params["url"])
    if params.get("enabled_events"):
        endpoint["enabled_events"] = _events(params["enabled_events"])
    if "description" in params:
        endpoint["description"] = params["description"]
    if params.get("disabled") is not None:
        endpoint["status"] = "disabled" if params["disabled"] else "enabled"
    apply_metadata(endpoint, params)
    return render(call, endpoint)


def delete(call: Call) -> dict[str, Any]:
    endpoint = call.state.webhook_endpoints.require(call.arg("id"))
    call.state.webhook_endpoints.remove(endpoint["id"])
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def listing(call: Call) -> dict[str, Any]:
    return page(call, call.state.webhook_endpoints, "/v1/webhook_endpoints")


def _url(url: str) -> str:
    if not re.match(r"^https?://[^\s/]+", url):
        raise StripeError.invalid(f"Invalid URL: {url}", param="url", code="url_invalid")
    return url


def _events(events: list[str]) -> list[str]:
    for index, name in enumerate(events):
        if not name or not _EVENT.match(name):
            raise StripeError.invalid(
                f"Invalid enabled_events[{index}]: {name}", param=f"enabled_events[{index}]"
            )
    return list(events)


ROUTES: Routes = {
    "/v1/webhook_endpoints": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/webhook_endpoints/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(spec({}), delete),
    },
}
