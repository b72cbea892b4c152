"""sObject records: ids, field validation, stages, line items, price books, addresses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_salesforce_kit import Env, fresh, start

from revbridge_sandboxes.salesforce.ids import checksum


@pytest.fixture(scope="module")
def shared_env() -> Iterator[Env]:
    yield from start()


@pytest.fixture
def env(shared_env: Env) -> Env:
    return fresh(shared_env)


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    return dict(body[0])


def _opportunity(env: Env, **fields: Any) -> str:
    account = env.create("Account", Name="Buyer")
    base = {
        "Name": "Deal",
        "AccountId": account,
        "StageName": "Prospecting",
        "CloseDate": "2024-06-30",
    }
    return env.create("Opportunity", **{**base, **fields})


def test_ids_have_key_prefix_and_case_checksum(env: Env) -> None:
    account = env.create("Account", Name="Acme")
    contact = env.create("Contact", LastName="Smith", AccountId=account[:15])
    assert account.startswith("001")
    assert contact.startswith("003")
    assert account[15:] == checksum(account[:15])
    assert env.get("Contact", contact)["AccountId"] == account
    assert env.get("Account", account[:15])["Id"] == account


def test_unknown_and_read_only_fields_are_refused(env: Env) -> None:
    error = _error(env.api.post("/sobjects/Account", json={"Name": "A", "Foo__c": "x"}), 400)
    assert error == {
        "message": "No such column 'Foo__c' on sobject of type Account",
        "errorCode": "INVALID_FIELD",
    }
    opp = _opportunity(env)
    error = _error(
        env.api.patch(f"/sobjects/Opportunity/{opp}", json={"IsWon": True, "IsClosed": True}), 400
    )
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["IsWon", "IsClosed"]
    assert error["message"].startswith("Unable to create/update fields: IsWon, IsClosed.")


def test_field_values_are_type_checked(env: Env) -> None:
    account = env.create("Account", Name="Acme")
    base = {"Name": "D", "AccountId": account, "StageName": "Prospecting"}
    bad_date = _error(
        env.api.post("/sobjects/Opportunity", json={**base, "CloseDate": "2024-13-01"}), 400
    )
    assert bad_date["errorCode"] == "JSON_PARSER_ERROR"
    bad_stage = _error(
        env.api.post(
            "/sobjects/Opportunity", json={**base, "CloseDate": "2024-01-01", "StageName": "Won"}
        ),
        400,
    )
    assert bad_stage == {
        "message": "StageName: bad value for restricted picklist field: Won",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["StageName"],
    }
    too_long = _error(env.api.post("/sobjects/Account", json={"Name": "x" * 256}), 400)
    assert too_long["errorCode"] == "STRING_TOO_LONG"
    assert too_long["fields"] == ["Name"]
    not_json = _error(env.api.post("/sobjects/Account", content=b"{nope"), 400)
    assert not_json["errorCode"] == "JSON_PARSER_ERROR"


def test_references_are_checked(env: Env) -> None:
    base = {"Name": "D", "StageName": "Prospecting", "CloseDate": "2024-01-01"}
    malformed = _error(
        env.api.post("/sobjects/Opportunity", json={**base, "AccountId": "abc"}), 400
    )
    assert malformed == {
        "message": "Account ID: id value of incorrect type: abc",
        "errorCode": "MALFORMED_ID",
        "fields": ["AccountId"],
    }
    contact = env.create("Contact", LastName="Doe")
    wrong_type = _error(
        env.api.post("/sobjects/Opportunity", json={**base, "AccountId": contact}), 400
    )
    assert wrong_type["errorCode"] == "MALFORMED_ID"
    missing = _error(
        env.api.post("/sobjects/Opportunity", json={**base, "AccountId": "0018d0000000zzzAAA"}), 400
    )
    assert missing["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_bad_ids_in_the_path_get_salesforce_errors(env: Env) -> None:
    not_an_id = _error(env.api.get("/sobjects/Account/xyz"), 404)
    assert not_an_id == {
        "message": "Provided external ID field does not exist or is not accessible: xyz",
        "errorCode": "NOT_FOUND",
    }
    contact = env.create("Contact", LastName="Doe")
    assert _error(env.api.get(f"/sobjects/Account/{contact}"), 400)["errorCode"] == "MALFORMED_ID"
    assert _error(env.api.get("/sobjects/Nope/001000000000000AAA"), 404)["errorCode"] == "NOT_FOUND"


def test_deleted_record_is_gone_and_cannot_be_deleted_twice(env: Env) -> None:
    account = env.create("Account", Name="Temp")
    assert env.api.delete(f"/sobjects/Account/{account}").status_code == 204
    assert _error(env.api.get(f"/sobjects/Account/{account}"), 404)["errorCode"] == "NOT_FOUND"
    again = _error(env.api.delete(f"/sobjects/Account/{account}"), 404)
    assert again == {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED"}


def test_read_with_fields_returns_only_those(env: Env) -> None:
    account = env.create("Account", Name="Acme", Phone="555")
    body = env.api.get(f"/sobjects/Account/{account}", params={"fields": "Name,Phone"}).json()
    assert body == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{account}",
        },
        "Name": "Acme",
        "Phone": "555",
    }


def test_duplicate_unique_external_id_is_refused(env: Env) -> None:
    env.create("Account", Name="A", Revbridge_Id__c="R-1")
    error = _error(
        env.api.post("/sobjects/Account", json={"Name": "B", "Revbridge_Id__c": "r-1"}), 400
    )
    assert error["errorCode"] == "DUPLICATE_VALUE"


def test_upsert_update_only_and_body_rules(env: Env) -> None:
    path = "/sobjects/Account/Revbridge_Id__c/R-7"
    assert (
        _error(env.api.patch(path, params={"updateOnly": "true"}, json={"Name": "A"}), 404)[
            "errorCode"
        ]
        == "NOT_FOUND"
    )
    assert env.api.patch(path, json={"Name": "A"}).status_code == 201
    assert env.api.patch(path, params={"updateOnly": "true"}, json={"Name": "B"}).status_code == 200
    in_body = _error(env.api.patch(path, json={"Name": "C", "Revbridge_Id__c": "R-8"}), 400)
    assert in_body["errorCode"] == "INVALID_FIELD"
    no_field = _error(env.api.patch("/sobjects/Account/Name/Acme", json={"Name": "C"}), 404)
    assert (
        no_field["message"]
        == "Provided external ID field does not exist or is not accessible: Name"
    )
    old_api = env.raw.patch(
        f"/services/data/v45.0{path}", json={"Name": "D"}, headers=env.api.headers
    )
    assert old_api.status_code == 204


def test_stage_drives_probability_and_closed_won_flags(env: Env) -> None:
    opp = _opportunity(env)
    record = env.get("Opportunity", opp)
    assert (record["Probability"], record["IsClosed"], record["IsWon"]) == (10.0, False, False)
    assert record["ForecastCategoryName"] == "Pipeline"

    assert (
        env.api.patch(f"/sobjects/Opportunity/{opp}", json={"StageName": "Closed Won"}).status_code
        == 204
    )
    won = env.get("Opportunity", opp)
    assert (won["Probability"], won["IsClosed"], won["IsWon"]) == (100.0, True, True)
    assert (won["ForecastCategoryName"], won["ForecastCategory"]) == ("Closed", "Closed")

    env.api.patch(f"/sobjects/Opportunity/{opp}", json={"StageName": "Closed Lost"})
    lost = env.get("Opportunity", opp)
    assert (lost["Probability"], lost["IsClosed"], lost["IsWon"]) == (0.0, True, False)
    stages = env.query("SELECT ApiName, IsWon FROM OpportunityStage WHERE IsClosed = true")
    assert {r["ApiName"] for r in stages["records"]} == {"Closed Won", "Closed Lost"}


def test_line_items_price_exactly_and_roll_up_to_amount(env: Env) -> None:
    product, entry = env.priced_product("PRO", "100.00")
    opp = _opportunity(env)
    line = env.create(
        "OpportunityLineItem",
        OpportunityId=opp,
        PricebookEntryId=entry,
        Quantity=3,
        UnitPrice="0.10",
    )
    raw = env.api.get(f"/sobjects/OpportunityLineItem/{line}").text
    assert '"TotalPrice":0.30' in raw
    assert '"ListPrice":100.00' in raw
    assert '"UnitPrice":0.10' in raw
    second = env.create(
        "OpportunityLineItem", OpportunityId=opp, Product2Id=product, Quantity=2, TotalPrice=50
    )
    assert env.get("OpportunityLineItem", second)["UnitPrice"] == 25.0

    deal = env.get("Opportunity", opp)
    assert deal["Amount"] == 50.30
    assert deal["HasOpportunityLineItem"] is True
    assert deal["Pricebook2Id"] == env.standard_pricebook()
    assert '"Amount":50.30' in env.api.get(f"/sobjects/Opportunity/{opp}").text

    env.api.delete(f"/sobjects/OpportunityLineItem/{second}")
    assert env.get("Opportunity", opp)["Amount"] == 0.3
    env.api.patch(f"/sobjects/OpportunityLineItem/{line}", json={"Quantity": 10})
    assert env.get("Opportunity", opp)["Amount"] == 1.0


def test_line_item_pricing_rules(env: Env) -> None:
    _, entry = env.priced_product("PRO", "100")
    opp = _opportunity(env)
    both = _error(
        env.api.post(
            "/sobjects/OpportunityLineItem",
            json={
                "OpportunityId": opp,
                "PricebookEntryId": entry,
                "Quantity": 1,
                "UnitPrice": 1,
                "TotalPrice": 1,
            },
        ),
        400,
    )
    assert both["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    _, euro_entry = env.priced_product("EUR", "90", currency="EUR")
    currency = _error(
        env.api.post(
            "/sobjects/OpportunityLineItem",
            json={
                "OpportunityId": opp,
                "PricebookEntryId": euro_entry,
                "Quantity": 1,
                "UnitPrice": 1,
            },
        ),
        400,
    )
    assert "currency code does not match" in currency["message"]
    read_only = _error(
        env.api.post(
            "/sobjects/OpportunityLineItem",
            json={
                "OpportunityId": opp,
                "PricebookEntryId": entry,
                "Quantity": 1,
                "UnitPrice": 1,
                "ListPrice": 5,
            },
        ),
        400,
    )
    assert read_only["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_price_books_need_a_standard_price_first(env: Env) -> None:
    assert (
        env.query("SELECT Id, Name FROM Pricebook2")["records"][0]["Name"] == "Standard Price Book"
    )
    product = env.create("Product2", Name="Widget", IsActive=True)
    custom = env.create("Pricebook2", Name="Partners", IsActive=True)
    no_standard = _error(
        env.api.post(
            "/sobjects/PricebookEntry",
            json={"Pricebook2Id": custom, "Product2Id": product, "UnitPrice": 5},
        ),
        400,
    )
    assert no_standard["errorCode"] == "STANDARD_PRICE_NOT_DEFINED"
    env.create(
        "PricebookEntry", Pricebook2Id=env.standard_pricebook(), Product2Id=product, UnitPrice=10
    )
    env.create("PricebookEntry", Pricebook2Id=custom, Product2Id=product, UnitPrice=8)
    duplicate = _error(
        env.api.post(
            "/sobjects/PricebookEntry",
            json={"Pricebook2Id": custom, "Product2Id": product, "UnitPrice": 7},
        ),
        400,
    )
    assert duplicate["errorCode"] == "DUPLICATE_VALUE"


def test_state_and_country_picklists_fill_names_and_codes(env: Env) -> None:
    account = env.create(
        "Account",
        Name="A",
        BillingCountry="Canada",
        BillingStateCode="ON",
        ShippingCountryCode="DE",
    )
    record = env.get("Account", account)
    assert (record["BillingCountryCode"], record["BillingState"]) == ("CA", "Ontario")
    assert record["ShippingCountry"] == "Germany"
    assert record["BillingAddress"]["stateCode"] == "ON"
    bad = _error(
        env.api.post("/sobjects/Account", json={"Name": "B", "BillingCountry": "Atlantis"}), 400
    )
    assert bad["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert bad["fields"] == ["BillingCountryCode"]
    bad_state = _error(
        env.api.post(
            "/sobjects/Account",
            json={"Name": "B", "BillingCountryCode": "US", "BillingState": "Ontario"},
        ),
        400,
    )
    assert bad_state["fields"] == ["BillingStateCode"]


def test_currency_and_custom_fields(env: Env) -> None:
    opp = _opportunity(
        env,
        CurrencyIsoCode="EUR",
        Billing_Frequency__c="Annual",
        Contract_Start_Date__c="2024-07-01",
    )
    record = env.get("Opportunity", opp)
    assert record["CurrencyIsoCode"] == "EUR"
    assert record["Contract_Start_Date__c"] == "2024-07-01"
    assert record["Auto_Renew__c"] is False
    bad = _error(
        env.api.patch(f"/sobjects/Opportunity/{opp}", json={"CurrencyIsoCode": "XXX"}), 400
    )
    assert bad["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    frequency = _error(
        env.api.patch(f"/sobjects/Opportunity/{opp}", json={"Billing_Frequency__c": "Weekly"}), 400
    )
    assert frequency["fields"] == ["Billing_Frequency__c"]


def test_account_hierarchy_and_cascading_delete(env: Env) -> None:
    parent = env.create("Account", Name="Parent", Revbridge_Id__c="P-1")
    child = env.create("Account", Name="Child", ParentId=parent)
    loop = _error(env.api.patch(f"/sobjects/Account/{parent}", json={"ParentId": child}), 400)
    assert loop["fields"] == ["ParentId"]
    found = env.query("SELECT Name, Parent.Revbridge_Id__c FROM Account WHERE ParentId != null")
    assert found["records"][0]["Parent"]["Revbridge_Id__c"] == "P-1"

    opp = env.create(
        "Opportunity", Name="D", AccountId=child, StageName="Prospecting", CloseDate="2024-01-01"
    )
    env.create("Contact", LastName="X", AccountId=child)
    assert env.api.delete(f"/sobjects/Account/{child}").status_code == 204
    state = env.raw.get("/_sandbox/state").json()
    assert state["records"]["Opportunity"] == []
    assert state["records"]["Contact"] == []
    assert _error(env.api.get(f"/sobjects/Opportunity/{opp}"), 404)["errorCode"] == "NOT_FOUND"


def test_foreign_key_by_external_id_sets_the_reference(env: Env) -> None:
    account = env.create("Account", Name="Acme", Revbridge_Id__c="ACME")
    opp = env.create(
        "Opportunity",
        Name="D",
        StageName="Prospecting",
        CloseDate="2024-01-01",
        Account={"Revbridge_Id__c": "ACME"},
    )
    assert env.get("Opportunity", opp)["AccountId"] == account


def test_contracts_and_orders_get_numbers_and_dates(env: Env) -> None:
    account = env.create("Account", Name="Acme")
    contract = env.create("Contract", AccountId=account, StartDate="2024-01-31", ContractTerm=12)
    record = env.get("Contract", contract)
    assert (record["Status"], record["StatusCode"], record["EndDate"]) == (
        "Draft",
        "Draft",
        "2025-01-30",
    )
    assert record["ContractNumber"].isdigit()
    assert len(record["ContractNumber"]) == 8
    order = env.create(
        "Order", AccountId=account, ContractId=contract, EffectiveDate="2024-02-01", Status="Draft"
    )
    assert env.get("Order", order)["OrderNumber"].isdigit()
    assert order.startswith("801")
    assert contract.startswith("800")


@pytest.mark.parametrize("type_name", ["User", "OpportunityStage"])
def test_system_objects_are_read_only(env: Env, type_name: str) -> None:
    error = _error(env.api.post(f"/sobjects/{type_name}", json={"Name": "x"}), 400)
    assert error["errorCode"] in ("INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_TYPE_FOR_OPERATION")
