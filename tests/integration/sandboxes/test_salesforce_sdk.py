"""simple-salesforce (the pinned SDK) works unchanged against the Salesforce sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from test_salesforce_kit import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    Env,
    fresh,
    sdk_session,
    start,
)


@pytest.fixture(scope="module")
def shared_env() -> Iterator[Env]:
    yield from start()


@pytest.fixture
def env(shared_env: Env) -> Env:
    return fresh(shared_env)


@pytest.fixture
def sf(env: Env) -> Salesforce:
    return env.sdk()


def test_password_login_through_sdk_points_at_sandbox(env: Env) -> None:
    sf = Salesforce(
        username=USERNAME,
        password=PASSWORD,
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        session=sdk_session(env.base_url),
    )
    assert sf.sf_instance == env.base_url.removeprefix("http://")
    assert sf.session_id.startswith("00D")
    assert sf.Account.create({"Name": "Login Co"})["success"] is True


def test_client_credentials_login_through_sdk_works(env: Env) -> None:
    sf = Salesforce(
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        domain="acme.my",
        session=sdk_session(env.base_url),
    )
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0


def test_sdk_create_read_update_delete_round_trip(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Acme", "BillingCountryCode": "US", "Tax_Exempt__c": True})
    assert created["success"] is True
    assert created["errors"] == []
    account_id = created["id"]
    assert len(account_id) == 18
    assert account_id.startswith("001")

    record = sf.Account.get(account_id)
    assert record["attributes"]["type"] == "Account"
    assert record["Name"] == "Acme"
    assert record["BillingCountry"] == "United States"
    assert record["Tax_Exempt__c"] is True
    assert record["CreatedDate"].endswith("+0000")

    assert sf.Account.update(account_id, {"Name": "Acme Corp"}) == 204
    assert sf.Account.get(account_id)["Name"] == "Acme Corp"

    assert sf.Account.delete(account_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(account_id)


def test_sdk_upsert_creates_then_updates_one_record(sf: Salesforce) -> None:
    assert sf.Account.upsert("Revbridge_Id__c/CUST-1", {"Name": "First"}) == 201
    assert sf.Account.upsert("Revbridge_Id__c/CUST-1", {"Name": "Second"}) == 200

    found = sf.query("SELECT Id, Name FROM Account WHERE Revbridge_Id__c = 'CUST-1'")
    assert found["totalSize"] == 1
    assert found["records"][0]["Name"] == "Second"
    response = sf.Account.upsert("Revbridge_Id__c/CUST-1", {"Name": "Third"}, raw_response=True)
    assert response.json() == {
        "id": found["records"][0]["Id"],
        "success": True,
        "errors": [],
        "created": False,
    }


def test_sdk_get_by_custom_id_handles_spaces_and_slashes(sf: Salesforce) -> None:
    sf.Account.upsert("Revbridge_Id__c/ACME%2FEU 1", {"Name": "Acme EU"})
    record = sf.Account.get_by_custom_id("Revbridge_Id__c", "ACME/EU 1")
    assert record["Name"] == "Acme EU"
    assert record["Revbridge_Id__c"] == "ACME/EU 1"


def test_ambiguous_external_id_raises_more_than_one_record(sf: Salesforce) -> None:
    first = sf.Account.create({"Name": "A", "ERP_Customer_Id__c": "C-9"})["id"]
    second = sf.Account.create({"Name": "B", "ERP_Customer_Id__c": "C-9"})["id"]

    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Account.upsert("ERP_Customer_Id__c/C-9", {"Name": "C"})
    assert caught.value.status == 300
    assert caught.value.content == [
        f"/services/data/v59.0/sobjects/Account/{first}",
        f"/services/data/v59.0/sobjects/Account/{second}",
    ]
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Account.get_by_custom_id("ERP_Customer_Id__c", "C-9")


def test_sdk_raises_its_error_classes_with_salesforce_bodies(sf: Salesforce, env: Env) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad_field:
        sf.Account.create({"Name": "X", "Nope__c": 1})
    assert bad_field.value.content == [
        {
            "message": "No such column 'Nope__c' on sobject of type Account",
            "errorCode": "INVALID_FIELD",
        }
    ]
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Opportunity.create({"Name": "Deal"})
    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert missing.value.content[0]["fields"] == ["StageName", "CloseDate"]
    with pytest.raises(SalesforceMalformedRequest) as bad_query:
        sf.query("SELECT Id FRM Account")
    assert bad_query.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get("001000000000000AAA")

    stale = Salesforce(
        instance_url=env.base_url, session_id="00Dxx!expired", session=sdk_session(env.base_url)
    )
    with pytest.raises(SalesforceExpiredSession) as expired:
        stale.query("SELECT Id FROM Account")
    assert expired.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


@pytest.fixture
def tiny_allocation() -> Iterator[Env]:
    yield from start(daily_api_limit=3)


def test_spent_allocation_raises_refused_request(tiny_allocation: Env) -> None:
    sf = tiny_allocation.sdk()
    for _ in range(3):
        sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 3
    assert sf.api_usage["api-usage"].total == 3
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Account")
    assert refused.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def _bulk_create(sf: Salesforce, count: int) -> None:
    for start_at in range(0, count, 200):
        records = [
            {"attributes": {"type": "Account"}, "Name": f"Account {n:05d}"}
            for n in range(start_at, min(count, start_at + 200))
        ]
        results = sf.restful(
            "composite/sobjects",
            method="POST",
            data=json.dumps({"allOrNone": True, "records": records}),
        )
        assert all(r["success"] for r in results)


def test_query_and_query_all_page_through_more_than_2000_rows(sf: Salesforce) -> None:
    _bulk_create(sf, 2100)

    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert first["totalSize"] == 2100
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")

    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True
    assert len(rest["records"]) == 100
    assert rest["records"][-1]["Name"] == "Account 02099"

    everything = sf.query_all("SELECT Id FROM Account")
    assert everything["totalSize"] == 2100
    assert len(everything["records"]) == 2100


def test_batch_size_header_sets_the_page_size(sf: Salesforce) -> None:
    _bulk_create(sf, 450)
    page = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(page["records"]) == 200
    assert page["nextRecordsUrl"].endswith("-200")
    assert len(sf.query_all("SELECT Id FROM Account")["records"]) == 450


def test_collections_through_restful(sf: Salesforce) -> None:
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        data=json.dumps(
            {
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "Account"}, "Name": "Good"},
                    {"attributes": {"type": "Account"}, "Website": "no name"},
                ],
            }
        ),
    )
    assert created[0]["success"] is True
    assert created[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }
    good = created[0]["id"]
    read = sf.restful(f"composite/sobjects/Account?ids={good},001000000000000AAA&fields=Id,Name")
    assert read[0]["Name"] == "Good"
    assert read[1] is None

    deleted = sf.restful(f"composite/sobjects?ids={good}", method="DELETE")
    assert deleted == [{"id": good, "success": True, "errors": []}]


def test_sdk_describe_lists_objects_and_fields(sf: Salesforce) -> None:
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Opportunity", "OpportunityLineItem", "PricebookEntry"} <= names
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert fields["IsWon"]["updateable"] is False
    assert fields["Revbridge_Id__c"]["externalId"] is True
    assert fields["Billing_Frequency__c"]["restrictedPicklist"] is True


def test_sdk_updated_and_deleted_windows(sf: Salesforce) -> None:
    start_at = datetime.now(UTC) - timedelta(minutes=1)
    kept = sf.Account.create({"Name": "Kept"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(gone)
    end_at = datetime.now(UTC) + timedelta(minutes=1)

    assert sf.Account.updated(start_at, end_at)["ids"] == [kept]
    deleted = sf.Account.deleted(start_at, end_at)
    assert [r["id"] for r in deleted["deletedRecords"]] == [gone]
    assert deleted["deletedRecords"][0]["deletedDate"].endswith("+0000")
