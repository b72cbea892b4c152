"""Records as the REST API shows them: ``attributes``, field values, address compounds."""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.salesforce.errors import bad_request
from revbridge_sandboxes.salesforce.schema import Field, SObjectType
from revbridge_sandboxes.salesforce.state import Record
from revbridge_sandboxes.salesforce.values import to_json

_ADDRESS_KEYS = (
    "city",
    "country",
    "countryCode",
    "geocodeAccuracy",
    "latitude",
    "longitude",
    "postalCode",
    "state",
    "stateCode",
    "street",
)


def record_url(version: str, type_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{type_name}/{record_id}"


def attributes(version: str, type_name: str, record_id: str) -> dict[str, str]:
    return {"type": type_name, "url": record_url(version, type_name, record_id)}


def field_json(sobject: SObjectType, record: Record, f: Field) -> Any:
    """The JSON value of field ``f`` of ``record``, compounds included."""
    if f.type != "address":
        return to_json(f, record.get(f.name))
    parts = sobject.addresses[f.name]
    values = {
        "city": record.get(parts["City"]),
        "country": record.get(parts["Country"]),
        "countryCode": record.get(parts["CountryCode"]),
        "postalCode": record.get(parts["PostalCode"]),
        "state": record.get(parts["State"]),
        "stateCode": record.get(parts["StateCode"]),
        "street": record.get(parts["Street"]),
    }
    if all(v is None for v in values.values()):
        return None
    return {key: values.get(key) for key in _ADDRESS_KEYS}


def select_fields(sobject: SObjectType, names: str | None) -> list[Field]:
    """The fields of a ``?fields=a,b`` parameter (all fields when absent)."""
    if not names:
        return list(sobject.fields.values())
    out = []
    for name in (n.strip() for n in names.split(",")):
        f = sobject.field(name)
        if f is None:
            raise bad_request(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{sobject.name}'. If you are attempting to "
                "use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        out.append(f)
    return out


def render(
    sobject: SObjectType, record: Record, version: str, fields: list[Field] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": attributes(version, sobject.name, record["Id"])}
    for f in fields if fields is not None else sobject.fields.values():
        out[f.name] = field_json(sobject, record, f)
    return out
