"""The org's Billing_Invoice__c custom object and the Opportunity fields revbridge stamps.

Driven through simple-salesforce where it has a call, over raw HTTP where it has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from test_salesforce_kit import Env, fresh, start

INVOICE_API = "/sobjects/Billing_Invoice__c"


@pytest.fixture(scope="module")
def shared_env() -> Iterator[Env]:
    yield from start()


@pytest.fixture
def env(shared_env: Env) -> Env:
    return fresh(shared_env)


@pytest.fixture
def sf(env: Env) -> Salesforce:
    return env.sdk()


def _won_deal(sf: Salesforce, name: str = "Acme renewal", currency: str = "EUR") -> str:
    created = sf.Opportunity.create(
        {
            "Name": name,
            "StageName": "Closed Won",
            "CloseDate": "2024-05-01",
            "CurrencyIsoCode": currency,
        }
    )
    return str(created["id"])


def _invoice(opportunity: str, number: str = "INV-0001", **fields: Any) -> dict[str, Any]:
    return {
        "Opportunity__c": opportunity,
        "Name": number,
        "Amount__c": 1190.00,
        "Tax__c": 190.00,
        "Amount_Paid__c": 0,
        "Amount_Due__c": 1190.00,
        "CurrencyIsoCode": "EUR",
        "Posted_Date__c": "2024-05-02",
        "Due_Date__c": "2024-06-01",
        "Status__c": "Open",
        **fields,
    }


def _errors(caught: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> list[dict[str, Any]]:
    return list(caught.value.content)


def test_describe_lists_billing_invoice_as_a_custom_object(sf: Salesforce) -> None:
    listed = {o["name"]: o for o in sf.describe()["sobjects"]}
    invoice = listed["Billing_Invoice__c"]
    assert invoice["custom"] is True
    assert invoice["label"] == "Billing Invoice"
    assert invoice["labelPlural"] == "Billing Invoices"
    assert invoice["keyPrefix"] == "a0B"
    assert listed["Opportunity"]["custom"] is False

    described = sf.Billing_Invoice__c.describe()
    assert described["custom"] is True
    fields = {f["name"]: f for f in described["fields"]}
    assert "OwnerId" not in fields  # the master record owns its details
    assert fields["Name"]["type"] == "string"
    assert fields["Name"]["length"] == 80
    assert fields["Name"]["nillable"] is False
    assert fields["Name"]["nameField"] is True
    external = fields["Billing_Invoice_Id__c"]
    assert (external["type"], external["length"]) == ("string", 80)
    assert external["externalId"] is external["unique"] is external["idLookup"] is True
    master = fields["Opportunity__c"]
    assert master["type"] == "reference"
    assert master["referenceTo"] == ["Opportunity"]
    assert master["relationshipName"] == "Opportunity__r"
    assert master["cascadeDelete"] is True
    assert master["relationshipOrder"] == 0
    assert master["nillable"] is False
    assert (master["createable"], master["updateable"]) == (True, False)
    for name in ("Amount__c", "Tax__c", "Amount_Paid__c", "Amount_Due__c"):
        assert (fields[name]["type"], fields[name]["precision"], fields[name]["scale"]) == (
            "currency",
            18,
            2,
        )
    for name in ("Due_Date__c", "Posted_Date__c", "Paid_Date__c"):
        assert fields[name]["type"] == "date"
    status = fields["Status__c"]
    assert status["type"] == "picklist"
    assert status["restrictedPicklist"] is True
    assert [v["value"] for v in status["picklistValues"]] == [
        "Open",
        "Partially Paid",
        "Paid",
        "Payment Failed",
        "Void",
        "Uncollectible",
    ]
    assert (fields["Payment_Failure__c"]["type"], fields["Payment_Failure__c"]["length"]) == (
        "string",
        255,
    )
    for name in ("ERP_Invoice_Id__c", "ERP_Payment_Id__c"):
        assert (fields[name]["type"], fields[name]["length"]) == ("string", 80)
    assert fields["CurrencyIsoCode"]["type"] == "picklist"

    children = {c["relationshipName"]: c for c in sf.Opportunity.describe()["childRelationships"]}
    assert children["Billing_Invoices__r"] == {
        "childSObject": "Billing_Invoice__c",
        "field": "Opportunity__c",
        "relationshipName": "Billing_Invoices__r",
        "cascadeDelete": True,
    }


def test_describe_shows_the_opportunity_stamp_fields(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    stamp = fields["Integration_Exception__c"]
    assert (stamp["type"], stamp["length"], stamp["nillable"]) == ("string", 255, True)
    billing = fields["Billing_Status__c"]
    assert billing["restrictedPicklist"] is True
    assert [v["value"] for v in billing["picklistValues"]] == [
        "Not Invoiced",
        "Invoiced",
        "Paid",
        "Payment Failed",
        "Overdue",
    ]
    assert fields["Last_Payment_Date__c"]["type"] == "date"
    integration = fields["Integration_Status__c"]
    assert integration["restrictedPicklist"] is False
    listed = [v["value"] for v in integration["picklistValues"]]
    assert {"Activated", "Cancelled", "Compensated"} <= set(listed)


def test_upsert_by_billing_invoice_id_twice_gives_one_record(sf: Salesforce, env: Env) -> None:
    deal = _won_deal(sf)
    body = _invoice(deal)

    assert sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_123", body) == 201
    paid = {**body, "Amount_Paid__c": 1190.00, "Amount_Due__c": 0, "Status__c": "Paid"}
    paid["Paid_Date__c"] = "2024-05-20"
    # The same master again is not a reparenting: the whole mapped body can be re-sent.
    assert sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_123", paid) == 200

    found = sf.query(
        "SELECT Id, Name, Status__c, Amount_Due__c, Paid_Date__c, CurrencyIsoCode "
        "FROM Billing_Invoice__c WHERE Billing_Invoice_Id__c = 'in_123'"
    )
    assert found["totalSize"] == 1
    row = found["records"][0]
    assert row["Id"].startswith("a0B")
    assert (row["Name"], row["Status__c"], row["Amount_Due__c"]) == ("INV-0001", "Paid", 0)
    assert (row["Paid_Date__c"], row["CurrencyIsoCode"]) == ("2024-05-20", "EUR")
    record = sf.Billing_Invoice__c.get_by_custom_id("Billing_Invoice_Id__c", "in_123")
    assert record["Id"] == row["Id"]
    assert record["Opportunity__c"] == deal

    # Raw HTTP: the bodies Salesforce answers from API v46.0 on (201 created, 200 updated).
    created = env.api.patch(
        f"{INVOICE_API}/Billing_Invoice_Id__c/in_456", json=_invoice(deal, "INV-0002")
    )
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    updated = env.api.patch(
        f"{INVOICE_API}/Billing_Invoice_Id__c/in_456", json={"Status__c": "Partially Paid"}
    )
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }


def test_upsert_before_api_v46_answers_204_on_update(sf: Salesforce, env: Env) -> None:
    deal = _won_deal(sf)
    path = f"/services/data/v45.0{INVOICE_API}/Billing_Invoice_Id__c/in_old"
    headers = {"Authorization": f"Bearer {env.token}"}
    created = env.raw.patch(path, json=_invoice(deal), headers=headers)
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "success": True, "errors": []}
    updated = env.raw.patch(path, json={"Status__c": "Void"}, headers=headers)
    assert updated.status_code == 204


def test_billing_invoice_ids_are_unique(sf: Salesforce) -> None:
    deal = _won_deal(sf)
    sf.Billing_Invoice__c.create({**_invoice(deal), "Billing_Invoice_Id__c": "in_dup"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Billing_Invoice__c.create({**_invoice(deal, "INV-2"), "Billing_Invoice_Id__c": "IN_DUP"})
    assert _errors(caught)[0]["errorCode"] == "DUPLICATE_VALUE"


def test_unknown_status_is_refused_by_the_restricted_picklist(sf: Salesforce) -> None:
    deal = _won_deal(sf)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Billing_Invoice__c.upsert(
            "Billing_Invoice_Id__c/in_bad", _invoice(deal, Status__c="Refunded")
        )
    assert _errors(caught) == [
        {
            "message": "Status: bad value for restricted picklist field: Refunded",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Status__c"],
        }
    ]
    assert sf.query("SELECT COUNT() FROM Billing_Invoice__c")["totalSize"] == 0


def test_invoice_without_opportunity_is_refused(sf: Salesforce) -> None:
    body = _invoice("")
    del body["Opportunity__c"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Billing_Invoice__c.create(body)
    assert _errors(caught) == [
        {
            "message": "Required fields are missing: [Opportunity__c]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["Opportunity__c"],
        }
    ]
    with pytest.raises(SalesforceMalformedRequest) as by_upsert:
        sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_orphan", body)
    assert _errors(by_upsert)[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_invoice_cannot_move_to_another_opportunity(sf: Salesforce) -> None:
    first, second = _won_deal(sf, "First"), _won_deal(sf, "Second")
    invoice = sf.Billing_Invoice__c.create(_invoice(first))["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Billing_Invoice__c.update(invoice, {"Opportunity__c": second})
    assert _errors(caught)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert _errors(caught)[0]["fields"] == ["Opportunity__c"]
    assert sf.Billing_Invoice__c.get(invoice)["Opportunity__c"] == first


def test_invoice_master_can_be_named_by_the_opportunity_external_id(sf: Salesforce) -> None:
    deal = sf.Opportunity.create(
        {
            "Name": "Keyed",
            "StageName": "Closed Won",
            "CloseDate": "2024-05-01",
            "Revbridge_Id__c": "deal-7",
        }
    )["id"]
    body = _invoice("", Opportunity__r={"Revbridge_Id__c": "deal-7"})
    del body["Opportunity__c"]
    assert sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_7", body) == 201
    record = sf.Billing_Invoice__c.get_by_custom_id("Billing_Invoice_Id__c", "in_7")
    assert record["Opportunity__c"] == deal


def test_soql_finds_invoices_by_opportunity(sf: Salesforce) -> None:
    deal, other = _won_deal(sf, "Deal"), _won_deal(sf, "Other")
    sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_1", _invoice(deal, "INV-1"))
    sf.Billing_Invoice__c.upsert(
        "Billing_Invoice_Id__c/in_2",
        _invoice(
            deal,
            "INV-2",
            Status__c="Payment Failed",
            Payment_Failure__c="card declined: insufficient_funds",
        ),
    )
    sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_3", _invoice(other, "INV-3"))

    plain = sf.query(
        "SELECT Name, Status__c, Payment_Failure__c, Opportunity__r.Name FROM Billing_Invoice__c "
        f"WHERE Opportunity__c = '{deal}' ORDER BY Name"
    )
    assert [(r["Name"], r["Status__c"]) for r in plain["records"]] == [
        ("INV-1", "Open"),
        ("INV-2", "Payment Failed"),
    ]
    assert plain["records"][1]["Payment_Failure__c"] == "card declined: insufficient_funds"
    assert plain["records"][0]["Opportunity__r"]["Name"] == "Deal"

    nested = sf.query(
        "SELECT Id, (SELECT Name, Status__c FROM Billing_Invoices__r ORDER BY Name) "
        f"FROM Opportunity WHERE Id = '{deal}'"
    )
    invoices = nested["records"][0]["Billing_Invoices__r"]
    assert invoices["totalSize"] == 2
    assert [r["Name"] for r in invoices["records"]] == ["INV-1", "INV-2"]
    failing = sf.query(
        "SELECT Name FROM Opportunity WHERE Id IN "
        "(SELECT Opportunity__c FROM Billing_Invoice__c WHERE Status__c = 'Payment Failed')"
    )
    assert [r["Name"] for r in failing["records"]] == ["Deal"]


def test_deleting_the_opportunity_deletes_its_invoices(sf: Salesforce, env: Env) -> None:
    deal, kept = _won_deal(sf, "Gone"), _won_deal(sf, "Kept")
    sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_a", _invoice(deal, "INV-A"))
    sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_b", _invoice(deal, "INV-B"))
    sf.Billing_Invoice__c.upsert("Billing_Invoice_Id__c/in_c", _invoice(kept, "INV-C"))

    sf.Opportunity.delete(deal)

    left = sf.query("SELECT Name FROM Billing_Invoice__c")
    assert [r["Name"] for r in left["records"]] == ["INV-C"]
    binned = sf.query_all(
        "SELECT Name FROM Billing_Invoice__c WHERE IsDeleted = true", include_deleted=True
    )
    assert sorted(r["Name"] for r in binned["records"]) == ["INV-A", "INV-B"]
    restored = env.raw.post("/_sandbox/undelete", json={"ids": [deal]})
    assert restored.status_code == 200, restored.text
    again = sf.query(f"SELECT Name FROM Billing_Invoice__c WHERE Opportunity__c = '{deal}'")
    assert again["totalSize"] == 2


def test_collections_upsert_invoices_by_external_id(sf: Salesforce) -> None:
    deal = _won_deal(sf)
    records = [
        {"attributes": {"type": "Billing_Invoice__c"}, "Billing_Invoice_Id__c": f"in_{n}"}
        | _invoice(deal, f"INV-{n}")
        for n in (1, 2)
    ]
    first = sf.restful(
        "composite/sobjects/Billing_Invoice__c/Billing_Invoice_Id__c",
        method="PATCH",
        json={"allOrNone": True, "records": records},
    )
    assert [r["created"] for r in first] == [True, True]
    records[1]["Status__c"] = "Void"
    second = sf.restful(
        "composite/sobjects/Billing_Invoice__c/Billing_Invoice_Id__c",
        method="PATCH",
        json={"allOrNone": True, "records": records},
    )
    assert [r["created"] for r in second] == [False, False]
    assert [r["id"] for r in second] == [r["id"] for r in first]
    assert sf.query("SELECT COUNT() FROM Billing_Invoice__c")["totalSize"] == 2


def test_integration_exception_is_stamped_then_cleared(sf: Salesforce) -> None:
    deal = _won_deal(sf)
    stamp = "Exception — tax quote refused: missing billing country (sales_ops)"
    assert sf.Opportunity.update(deal, {"Integration_Exception__c": stamp}) == 204
    assert sf.Opportunity.get(deal)["Integration_Exception__c"] == stamp
    open_cases = sf.query("SELECT Id FROM Opportunity WHERE Integration_Exception__c != null")
    assert [r["Id"] for r in open_cases["records"]] == [deal]

    assert sf.Opportunity.update(deal, {"Integration_Exception__c": None}) == 204
    assert sf.Opportunity.get(deal)["Integration_Exception__c"] is None
    assert (
        sf.query("SELECT COUNT() FROM Opportunity WHERE Integration_Exception__c != null")[
            "totalSize"
        ]
        == 0
    )


def test_billing_status_takes_its_listed_values_only(sf: Salesforce) -> None:
    deal = _won_deal(sf)
    for value in ("Not Invoiced", "Invoiced", "Paid", "Payment Failed", "Overdue"):
        sf.Opportunity.update(deal, {"Billing_Status__c": value})
        assert sf.Opportunity.get(deal)["Billing_Status__c"] == value
    sf.Opportunity.update(deal, {"Last_Payment_Date__c": "2024-05-20"})
    assert sf.Opportunity.get(deal)["Last_Payment_Date__c"] == "2024-05-20"

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.update(deal, {"Billing_Status__c": "Dunning"})
    assert _errors(caught)[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert _errors(caught)[0]["fields"] == ["Billing_Status__c"]


def test_integration_status_takes_the_statuses_revbridge_writes(sf: Salesforce) -> None:
    deal = _won_deal(sf)
    for status in ("Activated", "Cancelled", "Compensated", "booked"):
        sf.Opportunity.update(deal, {"Integration_Status__c": status})
        assert sf.Opportunity.get(deal)["Integration_Status__c"] == status


def test_invoice_changes_are_published_on_the_custom_object_channel() -> None:
    for env in start(cdc_entities=("Opportunity", "Billing_Invoice__c")):
        sf = env.sdk()
        deal = _won_deal(sf)
        invoice = sf.Billing_Invoice__c.create(_invoice(deal))["id"]

        (event,) = env.events(entity="Billing_Invoice__c")
        assert event["channel"] == "/data/Billing_Invoice__ChangeEvent"
        header = event["payload"]["ChangeEventHeader"]
        assert (header["entityName"], header["changeType"]) == ("Billing_Invoice__c", "CREATE")
        assert header["recordIds"] == [invoice]

        handshake = {"channel": "/meta/handshake", "version": "1.0", "id": "1"}
        headers = {"Authorization": f"Bearer {env.token}"}
        (hello,) = env.raw.post("/cometd/59.0", json=[handshake], headers=headers).json()
        channel = "/data/Billing_Invoice__ChangeEvent"
        subscribe = {
            "channel": "/meta/subscribe",
            "clientId": hello["clientId"],
            "subscription": channel,
            "ext": {"replay": {channel: -2}},
        }
        (subscribed,) = env.raw.post("/cometd/59.0", json=[subscribe], headers=headers).json()
        assert subscribed["successful"] is True
        connect = {
            "channel": "/meta/connect",
            "clientId": hello["clientId"],
            "connectionType": "long-polling",
        }
        messages = env.raw.post("/cometd/59.0", json=[connect], headers=headers).json()
        delivered = [m for m in messages if m["channel"] == channel]
        assert [m["data"]["payload"]["ChangeEventHeader"]["recordIds"] for m in delivered] == [
            [invoice]
        ]
