"""The version root, ``/limits`` and the query resources (``/query``, ``/queryAll``)."""

from __future__ import annotations

from starlette.responses import Response

from revbridge_sandboxes.salesforce.api import Call, Handler, json_response
from revbridge_sandboxes.salesforce.errors import bad_request
from revbridge_sandboxes.salesforce.queries import DEFAULT_BATCH, batch_size

_RESOURCES = (
    "tooling",
    "metadata",
    "eclair",
    "folders",
    "prechatForms",
    "jsonxform",
    "analytics",
    "search",
    "identity",
    "composite",
    "theme",
    "nouns",
    "event",
    "recent",
    "connect",
    "licensing",
    "limits",
    "process",
    "async-queries",
    "query",
    "queryAll",
    "sobjects",
    "actions",
    "support",
)


async def root(call: Call) -> Response:
    base = f"/services/data/v{call.version}"
    return json_response({name: f"{base}/{name}" for name in _RESOURCES})


async def limits(call: Call) -> Response:
    return json_response(call.org.usage.limits(call.org.cdc.delivered))


def _query_handler(include_deleted: bool) -> Handler:
    async def handler(call: Call) -> Response:
        text = call.param("q")
        if text is None or not text.strip():
            raise bad_request("MALFORMED_QUERY", "A query string has to be specified")
        batch = batch_size(call.request.headers.get("sforce-query-options")) or DEFAULT_BATCH
        result = call.org.queries.run(text, call.version, include_deleted)
        return json_response(call.org.cursors.first_page(result, batch, call.version))

    return handler


async def query_more(call: Call) -> Response:
    batch = batch_size(call.request.headers.get("sforce-query-options"))
    return json_response(call.org.cursors.next_page(call.request.path_params["locator"], batch))


ROUTES: list[tuple[str, dict[str, Handler]]] = [
    ("", {"GET": root}),
    ("/limits", {"GET": limits}),
    ("/query", {"GET": _query_handler(False)}),
    ("/queryAll", {"GET": _query_handler(True)}),
    ("/query/{locator}", {"GET": query_more}),
    ("/queryAll/{locator}", {"GET": query_more}),
]
