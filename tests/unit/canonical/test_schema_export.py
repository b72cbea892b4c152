"""The exported JSON Schemas are valid, deterministic, and describe what revbridge emits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from revbridge.canonical.money import Money
from revbridge.canonical.schema import INDEX_FILE, PUBLIC_MODELS, export_schemas
from revbridge.testing.factories import (
    invoice_for,
    order_accepted_event,
    payment_for,
    uk_child_customer,
    uk_legal_entity,
    uk_subscription_order,
)

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def check(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> None:
    """A small JSON Schema validator for the keywords pydantic emits (enough to catch drift)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        check(instance, root["$defs"][name], root, path)
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                check(instance, option, root, path)
                break
            except AssertionError as error:
                errors.append(str(error))
        else:
            raise AssertionError(f"{path}: matches no anyOf option: {errors}")
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(instance, JSON_TYPES[t]) and not (t != "boolean" and instance is True)
            for t in allowed
        )
        assert ok, f"{path}: {instance!r} is not {allowed}"
    if "enum" in schema:
        assert instance in schema["enum"], f"{path}: {instance!r} not in enum"
    if "const" in schema:
        assert instance == schema["const"], f"{path}: {instance!r} != {schema['const']!r}"
    if isinstance(instance, str):
        assert len(instance) >= schema.get("minLength", 0), f"{path}: too short"
        assert len(instance) <= schema.get("maxLength", len(instance)), f"{path}: too long"
        if "pattern" in schema:
            assert re.search(schema["pattern"], instance), f"{path}: {instance!r} !~ pattern"
    if isinstance(instance, int) and "minimum" in schema:
        assert instance >= schema["minimum"], f"{path}: below minimum"
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            check(item, schema["items"], root, f"{path}[{index}]")
    if isinstance(instance, dict):
        check_object(instance, schema, root, path)


def check_object(
    instance: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], path: str
) -> None:
    properties = schema.get("properties", {})
    missing = set(schema.get("required", [])) - instance.keys()
    assert not missing, f"{path}: missing {sorted(missing)}"
    for key, value in instance.items():
        if key in properties:
            check(value, properties[key], root, f"{path}.{key}")
        elif schema.get("additionalProperties") is False:
            raise AssertionError(f"{path}: unexpected property {key!r}")
        elif isinstance(schema.get("additionalProperties"), dict):
            check(value, schema["additionalProperties"], root, f"{path}.{key}")
        if "propertyNames" in schema:
            check(key, schema["propertyNames"], root, f"{path} key {key!r}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    directory = tmp_path_factory.mktemp("schemas") / "nested" / "dir"
    return directory, export_schemas(directory)


def load(directory: Path, model: type[BaseModel]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / f"{model.__name__}.schema.json").read_text())
    return document


def test_one_file_per_public_model_plus_an_index(exported: tuple[Path, list[Path]]) -> None:
    directory, paths = exported
    names = sorted(path.name for path in paths)
    assert names == sorted([f"{m.__name__}.schema.json" for m in PUBLIC_MODELS] + [INDEX_FILE])
    index = json.loads((directory / INDEX_FILE).read_text())
    assert index["schemaversion"] == "1"
    assert index["schemas"]["Money"] == "Money.schema.json"
    assert all((directory / name).is_file() for name in index["schemas"].values())


def test_every_file_is_a_2020_12_schema_whose_refs_resolve(
    exported: tuple[Path, list[Path]],
) -> None:
    directory, _ = exported
    for model in PUBLIC_MODELS:
        schema = load(directory, model)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"{model.__name__}.schema.json"
        assert schema["type"] == "object"
        text = json.dumps(schema)
        for ref in re.findall(r'"\$ref": "#/\$defs/([^"]+)"', text):
            assert ref in schema.get("$defs", {}), f"{model.__name__}: dangling $ref {ref}"


def test_money_amounts_are_strings_in_the_schema(exported: tuple[Path, list[Path]]) -> None:
    money = load(exported[0], Money)
    assert money["title"] == "Money"
    assert money["properties"]["amount"]["type"] == "string"
    assert "GBP" in money["$defs"]["Currency"]["enum"]
    assert "XAU" not in money["$defs"]["Currency"]["enum"]


@pytest.mark.parametrize(
    "build",
    [
        uk_subscription_order,
        uk_child_customer,
        uk_legal_entity,
        lambda: invoice_for(uk_subscription_order()),
        lambda: payment_for(invoice_for(uk_subscription_order())),
        lambda: order_accepted_event(uk_subscription_order()),
    ],
)
def test_what_revbridge_emits_validates_against_its_schema(
    exported: tuple[Path, list[Path]], build: Any
) -> None:
    model: BaseModel = build()
    schema = load(exported[0], type(model))
    check(json.loads(model.model_dump_json()), schema, schema)


def test_the_checker_notices_drift(exported: tuple[Path, list[Path]]) -> None:
    schema = load(exported[0], type(uk_subscription_order()))
    document = json.loads(uk_subscription_order().model_dump_json())
    document["lines"][0]["amount"]["amount"] = 12000.0
    with pytest.raises(AssertionError, match="amount"):
        check(document, schema, schema)


def test_export_is_deterministic(tmp_path: Path, exported: tuple[Path, list[Path]]) -> None:
    again = export_schemas(tmp_path)
    for path in again:
        assert path.read_bytes() == (exported[0] / path.name).read_bytes()
        text = path.read_text()
        assert text.endswith("}\n")
        assert (
            json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            == text
        )
    before = {path: path.stat().st_mtime_ns for path in again}
    export_schemas(tmp_path)
    assert {path: path.stat().st_mtime_ns for path in again} == before
