"""SOQL on the Salesforce sandbox: filters, relationships, aggregates, errors, cursors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from test_salesforce_kit import Env, fresh, start


@pytest.fixture(scope="module")
def shared_env() -> Iterator[Env]:
    yield from start()


@pytest.fixture
def env(shared_env: Env) -> Env:
    return fresh(shared_env)


@pytest.fixture
def book(env: Env) -> dict[str, str]:
    """Two accounts (one a child of the other), three opportunities, one line item."""
    parent = env.create("Account", Name="Globex Holding", Revbridge_Id__c="G-0")
    child = env.create("Account", Name="Globex EU", ParentId=parent, BillingCountryCode="DE")
    opps = {
        name: env.create(
            "Opportunity",
            Name=name,
            AccountId=child,
            StageName=stage,
            CloseDate=close,
            Amount=amount,
        )
        for name, stage, close, amount in [
            ("Alpha", "Prospecting", "2024-03-01", 100),
            ("Beta", "Closed Won", "2024-05-01", 250),
            ("Gamma", "Closed Won", "2023-12-31", None),
        ]
    }
    _, entry = env.priced_product("SKU-1", "10")
    env.create(
        "OpportunityLineItem",
        OpportunityId=opps["Gamma"],
        PricebookEntryId=entry,
        Quantity=2,
        UnitPrice=10,
    )
    return {"parent": parent, "child": child, **opps}


def _names(result: dict[str, Any]) -> list[str]:
    return [r["Name"] for r in result["records"]]


def _error(env: Env, soql: str, endpoint: str = "/query") -> dict[str, Any]:
    response = env.api.get(endpoint, params={"q": soql})
    assert response.status_code == 400, response.text
    return dict(response.json()[0])


def test_where_filters_combine_like_soql(env: Env, book: dict[str, str]) -> None:
    assert _names(
        env.query("SELECT Name FROM Opportunity WHERE StageName = 'closed won' ORDER BY Name")
    ) == ["Beta", "Gamma"]
    assert _names(env.query("SELECT Name FROM Opportunity WHERE Amount > 150")) == ["Beta"]
    assert _names(
        env.query("SELECT Name FROM Opportunity WHERE Amount != null AND IsWon = false")
    ) == ["Alpha"]
    assert _names(
        env.query(
            "SELECT Name FROM Opportunity WHERE Name IN ('Alpha', 'Gamma') "
            "AND (Amount = null OR Amount < 200) ORDER BY Name DESC"
        )
    ) == ["Gamma", "Alpha"]
    assert _names(
        env.query(
            "SELECT Name FROM Opportunity WHERE CloseDate >= 2024-01-01 AND CloseDate < 2024-04-01"
        )
    ) == ["Alpha"]
    assert _names(
        env.query("SELECT Name FROM Account WHERE Name LIKE 'globex%' AND NOT Name LIKE '%EU'")
    ) == ["Globex Holding"]
    assert _names(
        env.query("SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS LAST LIMIT 2")
    ) == ["Beta", "Alpha"]
    assert _names(env.query("SELECT Name FROM Opportunity ORDER BY Name LIMIT 1 OFFSET 1")) == [
        "Beta"
    ]
    assert env.query("SELECT Id FROM Opportunity WHERE CreatedDate = TODAY")["totalSize"] == 3
    this_year = datetime.now(UTC).year
    assert (
        env.query(
            f"SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:{366 * (this_year - 2022)}"
        )["totalSize"]
        == 3
    )


def test_parent_relationship_fields_nest_with_attributes(env: Env, book: dict[str, str]) -> None:
    result = env.query(
        "SELECT Name, Account.Name, Account.Parent.Revbridge_Id__c, Account.BillingCountry "
        "FROM Opportunity WHERE Name = 'Alpha'"
    )
    record = result["records"][0]
    assert record["Account"]["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{book['child']}",
    }
    assert record["Account"]["Name"] == "Globex EU"
    assert record["Account"]["BillingCountry"] == "Germany"
    assert record["Account"]["Parent"]["Revbridge_Id__c"] == "G-0"
    top = env.query(f"SELECT Name, Parent.Name FROM Account WHERE Id = '{book['parent']}'")
    assert top["records"][0]["Parent"] is None

    line = env.query(
        "SELECT Quantity, Opportunity.AccountId, PricebookEntry.Product2.ProductCode "
        "FROM OpportunityLineItem"
    )["records"][0]
    assert line["Opportunity"]["AccountId"] == book["child"]
    assert line["PricebookEntry"]["Product2"]["ProductCode"] == "SKU-1"


def test_child_subquery_and_semi_join(env: Env, book: dict[str, str]) -> None:
    result = env.query(
        "SELECT Name, (SELECT Name, Amount FROM Opportunities WHERE IsWon = true ORDER BY Name) "
        "FROM Account ORDER BY Name"
    )
    eu, holding = result["records"]
    assert holding["Opportunities"] is None
    assert eu["Opportunities"]["totalSize"] == 2
    assert [o["Name"] for o in eu["Opportunities"]["records"]] == ["Beta", "Gamma"]
    with_won = env.query(
        "SELECT Name FROM Account WHERE Id IN "
        "(SELECT AccountId FROM Opportunity WHERE IsWon = true)"
    )
    assert _names(with_won) == ["Globex EU"]


def test_count_and_aggregates(env: Env, book: dict[str, str]) -> None:
    counted = env.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = true")
    assert counted == {"totalSize": 2, "done": True, "records": []}
    grouped = env.query(
        "SELECT StageName, SUM(Amount) total, COUNT(Id) FROM Opportunity GROUP BY StageName"
    )
    rows = {r["StageName"]: r for r in grouped["records"]}
    assert rows["Closed Won"]["total"] == 270.0
    assert rows["Closed Won"]["expr0"] == 2
    assert rows["Prospecting"]["attributes"] == {"type": "AggregateResult"}


def test_query_all_includes_deleted_rows(env: Env, book: dict[str, str]) -> None:
    env.api.delete(f"/sobjects/Opportunity/{book['Alpha']}")
    assert env.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 2
    response = env.api.get(
        "/queryAll", params={"q": "SELECT Name, IsDeleted FROM Opportunity WHERE Name = 'Alpha'"}
    )
    assert response.json()["records"][0]["IsDeleted"] is True


def test_fields_macro_and_canonical_field_names(env: Env, book: dict[str, str]) -> None:
    record = env.query("select id, name, stagename from opportunity where name = 'Beta'")[
        "records"
    ][0]
    assert set(record) == {"attributes", "Id", "Name", "StageName"}
    standard = env.query("SELECT FIELDS(STANDARD) FROM Account LIMIT 1")["records"][0]
    assert "BillingAddress" in standard
    assert "Revbridge_Id__c" not in standard


def test_unknown_field_error_points_at_the_column(env: Env) -> None:
    error = _error(env, "SELECT Id, Nope__c FROM Account")
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"] == (
        "\nSELECT Id, Nope__c FROM Account\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Nope__c' on entity 'Account'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names."
    )


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id FROM Nope", "INVALID_TYPE", "sObject type 'Nope' is not supported."),
        ("SELECT Id FRM Account", "MALFORMED_QUERY", "unexpected token: 'FRM'"),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        (
            "SELECT Id FROM Opportunity WHERE CloseDate = '2024-01-01'",
            "INVALID_FIELD",
            "must be of type date",
        ),
        (
            "SELECT Id FROM Account WHERE Id = 'abc'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: abc",
        ),
        (
            "SELECT Foo.Name FROM Opportunity",
            "INVALID_FIELD",
            "Didn't understand relationship 'Foo'",
        ),
        (
            "SELECT Id, (SELECT Id FROM Nopes) FROM Account",
            "INVALID_TYPE",
            "Didn't understand relationship 'Nopes'",
        ),
    ],
)
def test_malformed_queries_get_salesforce_errors(
    env: Env, soql: str, code: str, fragment: str
) -> None:
    error = _error(env, soql)
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_missing_query_and_bad_locator_are_refused(env: Env) -> None:
    assert env.api.get("/query").json()[0]["errorCode"] == "MALFORMED_QUERY"
    response = env.api.get("/query/01g8d0000000000AAA-2000")
    assert response.status_code == 400
    assert response.json() == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]
