"""Stripe's wire protocol over raw HTTP: auth, errors, forms, pagination, idempotency, limits."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.faults import FaultConfig, FaultRule
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.forms import decode

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
OTHER_KEY = "sk_test_second_account_key"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serve(create_app(api_keys=[DEFAULT_API_KEY, OTHER_KEY])) as base:
        yield base


@pytest.fixture
def http(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, headers=AUTH) as client:
        client.post("/_sandbox/reset").raise_for_status()
        yield client


def _customer(http: httpx.Client, **form: str) -> dict[str, Any]:
    response = http.post("/v1/customers", data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


# -- form encoding ---------------------------------------------------------------


def test_form_decoder_builds_nested_hashes_and_arrays() -> None:
    raw = (
        "items[0][price]=p1&items[0][quantity]=2&items[1][price]=p2"
        "&metadata[crm_id]=006&expand[]=customer&expand[]=latest_invoice"
        "&recurring[interval]=month&empty="
    )
    assert decode(raw) == {
        "items": {"0": {"price": "p1", "quantity": "2"}, "1": {"price": "p2"}},
        "metadata": {"crm_id": "006"},
        "expand": ["customer", "latest_invoice"],
        "recurring": {"interval": "month"},
        "empty": "",
    }
    assert decode("a[][x]=1&a[][y]=2&a[][x]=3") == {"a": [{"x": "1", "y": "2"}, {"x": "3"}]}


@pytest.mark.parametrize("raw", ["a=1&a[b]=2", "a[b]=2&a=1", "a[]=1&a[0]=2", "a[b]=1&a[]=2"])
def test_form_decoder_rejects_a_value_reused_with_another_shape(raw: str) -> None:
    with pytest.raises(StripeError) as caught:
        decode(raw)
    assert caught.value.status == 400


def test_nested_params_reach_the_api(http: httpx.Client) -> None:
    customer = _customer(
        http,
        **{
            "name": "Acme",
            "metadata[crm_id]": "006X",
            "address[country]": "FR",
            "expand[]": "test_clock",
        },
    )
    assert customer["metadata"] == {"crm_id": "006X"}
    assert customer["address"]["country"] == "FR"

    cleared = http.post(f"/v1/customers/{customer['id']}", data={"metadata[crm_id]": ""}).json()
    assert cleared["metadata"] == {}


@pytest.mark.parametrize(
    "body",
    [b"a[=1", b"%ZZ=%%", b"\xff\xfe\x00garbage", b'{"name": "json body"}', b"name[x][y]=1"],
)
def test_malformed_bodies_get_a_stripe_400_never_a_500(http: httpx.Client, body: bytes) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = http.post("/v1/customers", content=body, headers=headers)

    assert response.status_code == 400
    assert _error(response)["type"] == "invalid_request_error"


# -- authentication, versions, request ids ------------------------------------------


def test_missing_key_is_401_in_stripe_shape(sandbox_url: str) -> None:
    response = httpx.get(f"{sandbox_url}/v1/customers")

    assert response.status_code == 401
    assert _error(response)["type"] == "invalid_request_error"
    assert _error(response)["message"].startswith("You did not provide an API key.")
    assert response.headers["Request-Id"].startswith("req_")


def test_invalid_key_is_masked_in_the_401(sandbox_url: str) -> None:
    key = "sk_test_51Hsecretsecret9876"
    response = httpx.get(f"{sandbox_url}/v1/customers", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Invalid API Key provided: sk_test_" + "*" * 15 + "9876",
            "type": "invalid_request_error",
        }
    }
    assert key not in response.text


def test_basic_auth_with_the_key_as_username_is_accepted(sandbox_url: str) -> None:
    token = base64.b64encode(f"{DEFAULT_API_KEY}:".encode()).decode()
    response = httpx.get(f"{sandbox_url}/v1/customers", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_stripe_version_is_echoed_or_defaulted(http: httpx.Client) -> None:
    default = http.get("/v1/customers")
    pinned = http.get("/v1/customers", headers={"Stripe-Version": "2025-03-31.basil"})
    invalid = http.get("/v1/customers", headers={"Stripe-Version": "yesterday"})

    assert default.headers["Stripe-Version"] == "2026-06-24.dahlia"
    assert pinned.headers["Stripe-Version"] == "2025-03-31.basil"
    assert invalid.status_code == 400
    assert default.headers["Request-Id"] != pinned.headers["Request-Id"]


# -- errors ------------------------------------------------------------------------


def test_unknown_nested_parameter_is_named_with_brackets(http: httpx.Client) -> None:
    response = http.post("/v1/customers", data={"address[planet]": "Mars"})

    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "parameter_unknown"
    assert error["param"] == "address[planet]"
    assert error["message"] == "Received unknown parameter: address[planet]"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/parameter-unknown"
    assert error["request_log_url"].startswith("https://dashboard.stripe.com/test/logs/req_")


def test_missing_required_parameter_is_parameter_missing(http: httpx.Client) -> None:
    response = http.post("/v1/subscriptions", data={"items[0][price]": "price_x"})

    assert response.status_code == 400
    assert _error(response)["code"] == "parameter_missing"
    assert _error(response)["message"] == "Missing required param: customer."


def test_wrong_type_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v1/customers", data={"balance": "lots"})

    assert response.status_code == 400
    assert _error(response)["code"] == "parameter_invalid_integer"
    assert _error(response)["param"] == "balance"


def test_bad_ids_are_404_resource_missing_with_param(http: httpx.Client) -> None:
    by_path = http.get("/v1/customers/cus_nope")
    by_param = http.post("/v1/subscriptions", data={"customer": "cus_nope", "items[0][price]": "p"})

    assert by_path.status_code == by_param.status_code == 404
    assert _error(by_path) | {"request_log_url": None} == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such customer: 'cus_nope'",
        "param": "id",
        "request_log_url": None,
        "type": "invalid_request_error",
    }
    assert _error(by_param)["param"] == "customer"


def test_unknown_url_is_stripe_404(http: httpx.Client) -> None:
    response = http.get("/v1/frobnicators")
    wrong_method = http.put("/v1/customers")

    assert response.status_code == wrong_method.status_code == 404
    assert _error(response)["message"].startswith(
        "Unrecognized request URL (GET: /v1/frobnicators)"
    )


def test_deleted_customer_reads_as_a_deleted_stub(http: httpx.Client) -> None:
    customer = _customer(http, name="Gone")
    deleted = http.delete(f"/v1/customers/{customer['id']}").json()

    assert deleted == {"id": customer["id"], "object": "customer", "deleted": True}
    assert http.get(f"/v1/customers/{customer['id']}").json()["deleted"] is True
    assert http.get("/v1/customers").json()["data"] == []


# -- lists -------------------------------------------------------------------------


def test_lists_page_newest_first_with_cursors(http: httpx.Client) -> None:
    ids = [_customer(http, name=f"c{i}")["id"] for i in range(5)]

    first = http.get("/v1/customers", params={"limit": 2}).json()
    second = http.get("/v1/customers", params={"limit": 2, "starting_after": ids[3]}).json()
    last = http.get("/v1/customers", params={"limit": 2, "starting_after": ids[1]}).json()
    back = http.get("/v1/customers", params={"limit": 2, "ending_before": ids[1]}).json()

    assert first["object"] == "list"
    assert first["url"] == "/v1/customers"
    assert [c["id"] for c in first["data"]] == [ids[4], ids[3]]
    assert first["has_more"]
    assert [c["id"] for c in second["data"]] == [ids[2], ids[1]]
    assert second["has_more"]
    assert [c["id"] for c in last["data"]] == [ids[0]]
    assert not last["has_more"]
    assert [c["id"] for c in back["data"]] == [ids[3], ids[2]]
    assert back["has_more"]


def test_list_limits_are_checked(http: httpx.Client) -> None:
    assert http.get("/v1/customers", params={"limit": 101}).status_code == 400
    assert http.get("/v1/customers", params={"limit": 0}).status_code == 400
    missing = http.get("/v1/customers", params={"starting_after": "cus_missing"})
    assert missing.status_code == 404
    assert _error(missing)["param"] == "starting_after"


def test_prices_are_found_by_unique_lookup_key(http: httpx.Client) -> None:
    product = http.post("/v1/products", data={"name": "Seat"}).json()
    form = {"product": product["id"], "currency": "usd", "unit_amount": "900", "lookup_key": "seat"}
    first = http.post("/v1/prices", data=form).json()
    taken = http.post("/v1/prices", data=form)
    moved = http.post("/v1/prices", data={**form, "transfer_lookup_key": "true"}).json()

    found = http.get("/v1/prices", params={"lookup_keys[]": "seat"}).json()["data"]
    assert taken.status_code == 400
    assert _error(taken)["param"] == "lookup_key"
    assert [p["id"] for p in found] == [moved["id"]]
    assert http.get(f"/v1/prices/{first['id']}").json()["lookup_key"] is None


def test_expand_replaces_ids_with_objects(http: httpx.Client) -> None:
    card = {"payment_method": "pm_card_visa"}
    card["invoice_settings[default_payment_method]"] = "pm_card_visa"
    customer = _customer(http, name="Acme", **card)
    product = http.post("/v1/products", data={"name": "Seat"}).json()
    price = http.post(
        "/v1/prices",
        data={
            "product": product["id"],
            "currency": "usd",
            "unit_amount": "500",
            "recurring[interval]": "month",
        },
    ).json()
    form = {"customer": customer["id"], "items[0][price]": price["id"]}
    sub = http.post("/v1/subscriptions", data=form).json()

    expanded = http.get(
        f"/v1/subscriptions/{sub['id']}",
        params={"expand[]": ["customer", "latest_invoice", "items.data.price.product"]},
    ).json()
    listed = http.get("/v1/subscriptions", params={"expand[0]": "data.customer"}).json()

    assert expanded["customer"]["id"] == customer["id"]
    assert expanded["latest_invoice"]["object"] == "invoice"
    assert expanded["items"]["data"][0]["price"]["product"]["name"] == "Seat"
    assert listed["data"][0]["customer"]["object"] == "customer"
    assert http.get(f"/v1/subscriptions/{sub['id']}").json()["customer"] == customer["id"]


def test_search_finds_customers_by_metadata(http: httpx.Client) -> None:
    _customer(http, **{"name": "Acme", "metadata[crm_id]": "006A"})
    wanted = _customer(http, **{"name": "Globex", "metadata[crm_id]": "006B"})

    query = "metadata['crm_id']:'006B' AND name~'lob'"
    result = http.get("/v1/customers/search", params={"query": query}).json()

    assert result["object"] == "search_result"
    assert [c["id"] for c in result["data"]] == [wanted["id"]]
    bad = http.get("/v1/customers/search", params={"query": "name:'a' AND email:'b' OR x:'c'"})
    assert bad.status_code == 400


# -- idempotency -------------------------------------------------------------------


def test_validation_failures_are_not_saved_under_the_key(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "fix-and-retry"}
    bad = http.post("/v1/customers", data={"balance": "x"}, headers=key)
    good = http.post("/v1/customers", data={"name": "Acme"}, headers=key)

    assert bad.status_code == 400
    assert good.status_code == 200
    assert "Idempotent-Replayed" not in good.headers


def test_endpoint_errors_are_saved_and_replayed(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "missing-customer"}
    form = {"customer": "cus_missing", "amount": "100", "currency": "usd"}
    first = http.post("/v1/invoiceitems", data=form, headers=key)
    second = http.post("/v1/invoiceitems", data=form, headers=key)

    assert first.status_code == second.status_code == 404
    assert second.text == first.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Original-Request"] == first.headers["Request-Id"]


def test_key_reused_on_another_endpoint_is_an_idempotency_error(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "one-endpoint"}
    http.post("/v1/customers", data={"name": "Acme"}, headers=key)
    response = http.post("/v1/products", data={"name": "Acme"}, headers=key)

    assert response.status_code == 400
    assert _error(response)["type"] == "idempotency_error"
    assert "('/v1/customers' vs '/v1/products')" in _error(response)["message"]


def test_key_longer_than_255_is_rejected(http: httpx.Client) -> None:
    response = http.post("/v1/customers", data={}, headers={"Idempotency-Key": "k" * 256})

    assert response.status_code == 400
    assert "1-255 characters" in _error(response)["message"]


def test_keys_are_scoped_per_api_key(http: httpx.Client) -> None:
    key = "shared-key"
    mine = http.post("/v1/customers", data={"name": "A"}, headers={"Idempotency-Key": key})
    other_auth = {"Authorization": f"Bearer {OTHER_KEY}", "Idempotency-Key": key}
    theirs = http.post("/v1/customers", data={"name": "B"}, headers=other_auth)

    assert theirs.status_code == 200
    assert theirs.json()["id"] != mine.json()["id"]


def test_keys_are_pruned_after_24_hours_of_sandbox_time(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "daily-sync"}
    first = http.post("/v1/customers", data={"name": "A"}, headers=key).json()
    http.post("/_sandbox/clock/advance", json={"seconds": 24 * 3600 + 1}).raise_for_status()
    later = http.post("/v1/customers", data={"name": "A"}, headers=key)

    assert later.status_code == 200
    assert "Idempotent-Replayed" not in later.headers
    assert later.json()["id"] != first["id"]


def test_concurrent_request_with_the_same_key_gets_409() -> None:
    with serve(create_app(execution_delay_s=0.5)) as base:
        results: list[httpx.Response] = []

        def send() -> None:
            results.append(
                httpx.post(
                    f"{base}/v1/customers",
                    data={"name": "Acme"},
                    headers={**AUTH, "Idempotency-Key": "double-click"},
                )
            )

        first = threading.Thread(target=send)
        first.start()
        threading.Event().wait(0.2)
        send()
        first.join()
        retry = httpx.post(
            f"{base}/v1/customers",
            data={"name": "Acme"},
            headers={**AUTH, "Idempotency-Key": "double-click"},
        )

    conflict = results[0]
    assert conflict.status_code == 409
    assert _error(conflict)["type"] == "idempotency_error"
    assert _error(conflict)["code"] == "idempotency_key_in_use"
    assert results[1].status_code == 200
    assert retry.json()["id"] == results[1].json()["id"]


# -- rate limits and injected faults -------------------------------------------------


def test_rate_limit_answers_429_without_quota_headers() -> None:
    with serve(create_app(rate_limit_per_s=5)) as base, httpx.Client(headers=AUTH) as client:
        statuses = [client.get(f"{base}/v1/customers") for _ in range(12)]

    limited = [r for r in statuses if r.status_code == 429]
    assert limited
    assert statuses[0].status_code == 200
    error = _error(limited[0])
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "rate_limit"
    assert error["message"].startswith("Request rate limit exceeded.")
    assert not any(h.lower().startswith(("x-ratelimit", "retry-after")) for h in limited[0].headers)


def test_injected_faults_use_stripe_error_shapes(http: httpx.Client) -> None:
    rules = [
        FaultRule(path="/v1/products", errors={500: 1.0}),
        FaultRule(path="/v1/prices", errors={429: 1.0}),
    ]
    http.put("/_sandbox/faults", json=FaultConfig(rules=rules).model_dump(mode="json"))

    server_error = http.get("/v1/products")
    limited = http.get("/v1/prices")

    assert server_error.status_code == 500
    assert _error(server_error)["type"] == "api_error"
    assert limited.status_code == 429
    assert _error(limited)["code"] == "rate_limit"
    assert "Retry-After" not in limited.headers
    assert server_error.headers["Request-Id"].startswith("req_")
