"""Change Data Capture on the Salesforce sandbox: events, CometD pull and webhook push."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_salesforce_kit import Env, fresh, start

from revbridge.testing.servers import serve


@pytest.fixture(scope="module")
def shared_env() -> Iterator[Env]:
    yield from start(cometd_timeout_s=1.0)


@pytest.fixture
def env(shared_env: Env) -> Env:
    return fresh(shared_env)


def _opportunity(env: Env) -> str:
    account = env.create("Account", Name="Initech")
    return env.create(
        "Opportunity",
        Name="Renewal",
        AccountId=account,
        StageName="Negotiation/Review",
        CloseDate="2024-09-30",
    )


def _header(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event["payload"]["ChangeEventHeader"])


def test_closing_a_deal_emits_update_with_changed_fields(env: Env) -> None:
    opp = _opportunity(env)
    before = env.events()[-1]["event"]["replayId"]

    env.api.patch(
        f"/sobjects/Opportunity/{opp}",
        json={"StageName": "Closed Won"},
        headers={"Sforce-Call-Options": "client=revbridge"},
    )

    (event,) = env.events(after=before)
    header = _header(event)
    assert event["channel"] == "/data/OpportunityChangeEvent"
    assert (header["entityName"], header["changeType"], header["recordIds"]) == (
        "Opportunity",
        "UPDATE",
        [opp],
    )
    assert header["changeOrigin"] == "com/salesforce/api/rest/59.0;client=revbridge"
    assert header["changedFields"] == [
        "StageName",
        "Probability",
        "IsClosed",
        "IsWon",
        "ForecastCategory",
        "ForecastCategoryName",
        "LastModifiedDate",
    ]
    payload = event["payload"]
    assert (
        payload["StageName"],
        payload["IsWon"],
        payload["IsClosed"],
        payload["Probability"],
    ) == ("Closed Won", True, True, 100.0)
    assert "Name" not in payload
    rest_stamp = env.get("Opportunity", opp)["LastModifiedDate"]  # 2024-05-01T10:00:00.000+0000
    assert payload["LastModifiedDate"] == rest_stamp.replace("+0000", "Z")
    assert isinstance(header["commitTimestamp"], int)
    assert header["commitUser"].startswith("005")
    assert len(event["schema"]) == 22


def test_create_event_carries_fields_and_empty_changed_fields(env: Env) -> None:
    env.create(
        "Account",
        Name="Acme",
        BillingCountryCode="US",
        BillingStateCode="NY",
        Revbridge_Id__c="A-1",
    )
    env.create("Contact", LastName="Not captured")
    (event,) = env.events()
    assert _header(event)["changeType"] == "CREATE"
    assert _header(event)["changedFields"] == []
    assert event["payload"]["Name"] == "Acme"
    assert event["payload"]["BillingAddress"] == {
        "State": "New York",
        "Country": "United States",
        "StateCode": "NY",
        "CountryCode": "US",
    }
    assert "Id" not in event["payload"]
    assert "SystemModstamp" not in event["payload"]


def test_line_item_and_amount_update_share_one_transaction(env: Env) -> None:
    opp = _opportunity(env)
    _, entry = env.priced_product("SKU", "40")
    before = env.events()[-1]["event"]["replayId"]
    env.create(
        "OpportunityLineItem", OpportunityId=opp, PricebookEntryId=entry, Quantity=2, UnitPrice="40"
    )

    line_event, opp_event = env.events(after=before)
    line, deal = _header(line_event), _header(opp_event)
    assert (line["entityName"], line["changeType"], line["sequenceNumber"]) == (
        "OpportunityLineItem",
        "CREATE",
        1,
    )
    assert (deal["entityName"], deal["changeType"], deal["sequenceNumber"]) == (
        "Opportunity",
        "UPDATE",
        2,
    )
    assert line["transactionKey"] == deal["transactionKey"]
    assert line["commitNumber"] == deal["commitNumber"]
    assert "Amount" in deal["changedFields"]
    assert "HasOpportunityLineItem" in deal["changedFields"]
    assert opp_event["payload"]["Amount"] == 80.0


def test_collection_call_is_one_transaction_with_increasing_replay_ids(env: Env) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(3)]
    env.api.post("/composite/sobjects", json={"records": records})
    events = env.events()
    headers = [_header(e) for e in events]
    assert len({h["transactionKey"] for h in headers}) == 1
    assert [h["sequenceNumber"] for h in headers] == [1, 2, 3]
    replay_ids = [e["event"]["replayId"] for e in events]
    assert replay_ids == sorted(set(replay_ids))
    assert len({e["event"]["EventUuid"] for e in events}) == 3


def test_delete_and_undelete_emit_events(env: Env) -> None:
    account = env.create("Account", Name="Gone")
    env.api.delete(f"/sobjects/Account/{account}")
    restored = env.raw.post("/_sandbox/undelete", json={"ids": [account]})
    assert restored.json()[0]["success"] is True
    _created, deleted, undeleted = env.events()
    assert _header(deleted)["changeType"] == "DELETE"
    assert set(deleted["payload"]) == {"ChangeEventHeader"}
    assert _header(undeleted)["changeType"] == "UNDELETE"
    assert undeleted["payload"]["Name"] == "Gone"
    assert env.get("Account", account)["Name"] == "Gone"


class Bayeux:
    """A tiny long-polling Bayeux client speaking to the sandbox's /cometd endpoint."""

    def __init__(self, env: Env, token: str | None = None) -> None:
        self.http = env.raw
        self.headers = {"Authorization": f"Bearer {token or env.token}"}
        self.client_id = ""

    def send(self, *messages: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        response = self.http.post(
            "/cometd/59.0", json=list(messages), headers=self.headers, timeout=10
        )
        return response.status_code, list(response.json())

    def handshake(self) -> dict[str, Any]:
        _, (reply,) = self.send(
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "supportedConnectionTypes": ["long-polling"],
                "id": "1",
            }
        )
        self.client_id = reply.get("clientId", "")
        return reply

    def subscribe(self, channel: str, replay: int) -> dict[str, Any]:
        _, (reply,) = self.send(
            {
                "channel": "/meta/subscribe",
                "clientId": self.client_id,
                "subscription": channel,
                "ext": {"replay": {channel: replay}},
            }
        )
        return reply

    def connect(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        _, messages = self.send(
            {
                "channel": "/meta/connect",
                "clientId": self.client_id,
                "connectionType": "long-polling",
            }
        )
        return messages[:-1], messages[-1]


def test_cometd_replays_after_a_replay_id(env: Env) -> None:
    first = env.create("Account", Name="One")
    env.create("Account", Name="Two")
    after = env.events()[0]["event"]["replayId"]

    bayeux = Bayeux(env)
    hello = bayeux.handshake()
    assert hello["successful"] is True
    assert hello["supportedConnectionTypes"] == ["long-polling"]
    assert hello["ext"]["replay"] is True
    assert bayeux.subscribe("/data/AccountChangeEvent", after)["successful"] is True

    events, reply = bayeux.connect()
    assert reply["successful"] is True
    assert reply["advice"]["reconnect"] == "retry"
    assert [m["channel"] for m in events] == ["/data/AccountChangeEvent"]
    assert events[0]["data"]["payload"]["Name"] == "Two"
    assert events[0]["data"]["event"]["replayId"] > after

    everything = Bayeux(env)
    everything.handshake()
    everything.subscribe("/data/ChangeEvents", -2)
    replayed, _ = everything.connect()
    assert (
        next(m["data"]["payload"]["ChangeEventHeader"]["recordIds"][0] for m in replayed) == first
    )
    assert all(m["channel"] == "/data/ChangeEvents" for m in replayed)


def test_cometd_connect_long_polls_for_new_events(env: Env) -> None:
    bayeux = Bayeux(env)
    bayeux.handshake()
    bayeux.subscribe("/data/OpportunityChangeEvent", -1)
    assert bayeux.connect()[0] == []  # the first connect answers at once

    timer = threading.Timer(0.3, lambda: _opportunity(env))
    timer.start()
    started = time.monotonic()
    events, reply = bayeux.connect()
    timer.join()
    assert reply["successful"] is True
    assert 0.2 < time.monotonic() - started < 0.9
    assert [m["data"]["payload"]["ChangeEventHeader"]["entityName"] for m in events] == [
        "Opportunity"
    ]

    quiet_started = time.monotonic()
    assert bayeux.connect()[0] == []
    assert time.monotonic() - quiet_started >= 0.9  # held for the advice timeout


def test_cometd_errors_use_salesforce_strings(env: Env) -> None:
    bayeux = Bayeux(env)
    bayeux.handshake()
    invalid = bayeux.subscribe("/data/AccountChangeEvent", 999999)
    assert invalid["successful"] is False
    assert invalid["error"].startswith("400::The replayId {999999} you provided was invalid.")
    unknown = bayeux.subscribe("/data/NopeChangeEvent", -1)
    assert (
        unknown["error"]
        == "400::The channel you requested to subscribe to does not exist {/data/NopeChangeEvent}"
    )

    stranger = Bayeux(env)
    stranger.client_id = "not-a-client"
    _, (reply,) = stranger.send({"channel": "/meta/connect", "clientId": "not-a-client"})
    assert reply["error"] == "403::Unknown client"
    assert reply["advice"]["reconnect"] == "handshake"

    status, (denied,) = Bayeux(env, token="00Dbad!token").send({"channel": "/meta/handshake"})
    assert status == 401
    assert denied["error"] == "403::Handshake denied"


class Receiver:
    """A webhook endpoint recording what it is sent."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []

        async def hook(request: Request) -> Response:
            self.deliveries.append((await request.body(), dict(request.headers)))
            return Response(status_code=204)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.deliveries) >= count


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    sink = Receiver()
    with serve(sink.app) as base_url:
        yield sink, f"{base_url}/hook"


def _verify(secret: bytes, body: bytes, headers: dict[str, str]) -> bool:
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == f"v1,{expected}"


def test_push_delivery_is_signed_standard_webhooks_style(
    env: Env, receiver: tuple[Receiver, str]
) -> None:
    sink, url = receiver
    secret = base64.b64encode(b"test-secret-bytes").decode()
    added = env.raw.post(
        "/_sandbox/cdc/subscribers", json={"url": url, "secret": f"whsec_{secret}"}
    )
    assert added.status_code == 201

    opp = _opportunity(env)
    env.api.patch(f"/sobjects/Opportunity/{opp}", json={"StageName": "Closed Won"})
    sink.wait_for(3)

    body, headers = sink.deliveries[-1]
    assert _verify(b"test-secret-bytes", body, headers)
    assert not _verify(b"other", body, headers)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 10
    event = json.loads(body)
    assert headers["webhook-id"] == event["event"]["EventUuid"]
    assert _header(event)["changeType"] == "UPDATE"
    assert event == env.events()[-1]


@pytest.fixture
def pushing_env(receiver: tuple[Receiver, str]) -> Iterator[tuple[Env, Receiver]]:
    sink, url = receiver
    for env in start(cdc_webhooks=[url], cdc_webhook_secret="plain-secret", cdc_retention=3):
        yield env, sink


def test_configured_webhooks_and_retention(pushing_env: tuple[Env, Receiver]) -> None:
    env, sink = pushing_env
    for n in range(5):
        env.create("Account", Name=f"A{n}")
    sink.wait_for(5)
    assert all(_verify(b"plain-secret", body, headers) for body, headers in sink.deliveries)
    retained = env.events()
    assert [e["payload"]["Name"] for e in retained] == ["A2", "A3", "A4"]
    bayeux = Bayeux(env)
    bayeux.handshake()
    assert bayeux.subscribe("/data/ChangeEvents", 1)["successful"] is False
    assert bayeux.subscribe("/data/ChangeEvents", -2)["successful"] is True
    assert len(bayeux.connect()[0]) == 3
    state = env.raw.get("/_sandbox/state").json()
    assert state["cdc_delivery"]["delivered"] == 5
    assert env.api.get("/limits").status_code == httpx.codes.OK
