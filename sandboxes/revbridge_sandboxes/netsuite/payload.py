"""Reading request bodies into stored field values, the way NetSuite reads them.

Reference fields accept ``{"id": "…"}``, ``{"externalId": "…"}`` or a bare id; they must
point at an existing record of the right type (else the "Invalid Field Value" error with
the JSON path of the field). Sublists are ``{"items": [...]}``. Unknown field names are
collected: the caller warns about them, or refuses the request when the client sent
``X-NetSuite-PropertyNameValidation: Error``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from revbridge_sandboxes.netsuite.errors import (
    Detail,
    NsError,
    invalid_reference,
    invalid_value,
)
from revbridge_sandboxes.netsuite.schema import FieldSpec, Shape
from revbridge_sandboxes.netsuite.state import NetSuiteState

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
#: Larger amounts and quantities are refused (NetSuite stores at most 15 significant digits).
MAX_NUMBER = 1e15


class PayloadReader:
    """Parses one request body; ``unknown`` lists the JSON paths of unknown fields."""

    def __init__(self, state: NetSuiteState, strict_names: bool = False) -> None:
        self.state = state
        self.strict_names = strict_names
        self.unknown: list[str] = []

    def read(self, shape: Shape, body: Any, path: str = "") -> dict[str, Any]:
        if not isinstance(body, dict):
            if path:
                raise invalid_value(path)
            raise NsError(400, [Detail("Invalid content in the request body.", "INVALID_CONTENT")])
        out: dict[str, Any] = {}
        for raw_name, value in body.items():
            name = shape.canonical(str(raw_name))
            where = f"{path}.{raw_name}" if path else str(raw_name)
            if name is None:
                self.unknown.append(where)
                continue
            if name in shape.sublists:
                out[name] = self._sublist(shape.sublists[name], value, where)
            elif name in shape.subrecords:
                out[name] = (
                    None if value is None else self.read(shape.subrecords[name], value, where)
                )
            elif name not in shape.fields:
                out[name] = value  # a custom field, stored as sent
            elif not shape.fields[name].read_only:
                out[name] = self.value(shape.fields[name], value, where, name)
        if self.unknown and self.strict_names and not path:
            raise NsError(400, [_unknown_detail(p) for p in self.unknown])
        return out

    def _sublist(self, shape: Shape, value: Any, path: str) -> list[dict[str, Any]]:
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            lines = value["items"]
        else:
            raise invalid_value(path)
        return [self.read(shape, line, f"{path}.items[{i}]") for i, line in enumerate(lines)]

    def value(self, spec: FieldSpec, value: Any, path: str, name: str) -> Any:
        if value is None:
            return None
        kind = spec.kind
        if kind == "text":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise invalid_value(path, name)
            return str(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise invalid_value(path, name)
            return value
        if kind in ("number", "integer"):
            return _number(value, path, name, integer=kind == "integer")
        if kind == "date":
            return _date(value, path, name)
        if kind == "enum":
            return _enum(spec, value, path, name)
        if kind == "multiref":
            items = value.get("items") if isinstance(value, dict) else value
            if not isinstance(items, list):
                raise invalid_value(path, name)
            return {
                "items": [
                    self.reference(spec, v, f"{path}.items[{i}]", name) for i, v in enumerate(items)
                ]
            }
        return self.reference(spec, value, path, name)

    def reference(self, spec: FieldSpec, value: Any, path: str, name: str) -> dict[str, str]:
        rid, eid = _ref_keys(value)
        if rid is None and eid is None:
            raise invalid_value(path, name)
        if not spec.targets:
            return {"id": rid} if rid is not None else {"externalId": str(eid)}
        found = self.state.find(spec.targets, rid, eid)
        if found is None:
            raise invalid_reference(path, name, rid if rid is not None else str(eid))
        return {"id": found[1]["id"]}


def _unknown_detail(path: str) -> Detail:
    name = path.rsplit(".", 1)[-1]
    return Detail(
        f"Invalid field name '{name}'. The field does not exist on this record or sublist.",
        "INVALID_CONTENT",
        path=path,
    )


def _ref_keys(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int | str) and str(value).strip():
        return str(value), None
    if isinstance(value, dict):
        rid, eid = value.get("id"), value.get("externalId")
        rid_ok = isinstance(rid, int | str) and not isinstance(rid, bool) and str(rid) != ""
        eid_ok = isinstance(eid, str | int) and not isinstance(eid, bool) and str(eid) != ""
        return (str(rid) if rid_ok else None), (str(eid) if eid_ok else None)
    return None, None


def _number(value: Any, path: str, name: str, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise invalid_value(path, name)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)
    if not isinstance(value, int | float) or not abs(value) <= MAX_NUMBER:  # NaN fails too
        raise invalid_value(path, name)
    if integer:
        if float(value) != int(value):
            raise invalid_value(path, name)
        return int(value)
    return float(value)


def _date(value: Any, path: str, name: str) -> str:
    if not isinstance(value, str) or not _DATE.match(value):
        raise invalid_value(path, name)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid_value(path, name) from None
    return value


def _enum(spec: FieldSpec, value: Any, path: str, name: str) -> dict[str, str]:
    key = value.get("id") if isinstance(value, dict) else value
    choices = spec.choices or {}
    if not isinstance(key, str) or key not in choices:
        raise invalid_value(path, name)
    return {"id": key}
