"""JSON Schema export of the canonical models, one file per public model plus an index.

The schemas describe the JSON revbridge emits (pydantic's *serialization* mode), so derived
fields such as ``Order.total`` are listed as read-only properties. Output is deterministic:
keys are sorted and files end with a newline, so re-exporting yields identical bytes and a
diff shows exactly what changed between model versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from revbridge.canonical.catalog import Product
from revbridge.canonical.commerce import Amendment, Contract, Order, OrderLine
from revbridge.canonical.events import SCHEMA_VERSION, BusinessEvent
from revbridge.canonical.finance import Invoice, Payment
from revbridge.canonical.ids import ExternalRef
from revbridge.canonical.money import Money
from revbridge.canonical.party import Address, Customer, LegalEntity, PaymentTerms, TaxExemption

__all__ = ["INDEX_FILE", "PUBLIC_MODELS", "export_schemas", "schema_of"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FILE = "index.json"

PUBLIC_MODELS: tuple[type[BaseModel], ...] = (
    Address,
    Amendment,
    BusinessEvent,
    Contract,
    Customer,
    ExternalRef,
    Invoice,
    LegalEntity,
    Money,
    Order,
    OrderLine,
    Payment,
    PaymentTerms,
    Product,
    TaxExemption,
)
"""Every model that gets a schema file, in file-name order."""


def schema_file_name(model: type[BaseModel]) -> str:
    return f"{model.__name__}.schema.json"


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one model's JSON form."""
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_file_name(model),
        **schema,
    }


def _render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_schemas(directory: Path) -> list[Path]:
    """Write ``<Model>.schema.json`` for every public model and ``index.json``; return the paths.

    The directory is created if needed. Files are rewritten only when their content changes,
    so an unchanged export leaves modification times alone.
    """
    directory.mkdir(parents=True, exist_ok=True)
    documents = {schema_file_name(model): schema_of(model) for model in PUBLIC_MODELS}
    index = {
        "schemaversion": SCHEMA_VERSION,
        "schemas": {model.__name__: schema_file_name(model) for model in PUBLIC_MODELS},
    }
    documents[INDEX_FILE] = index
    written = []
    for name in sorted(documents):
        path = directory / name
        text = _render(documents[name])
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
