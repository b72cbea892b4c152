"""Parameter schemas: coerce decoded form values and reject what Stripe would reject.

Every endpoint declares an :class:`Obj` of the parameters the real endpoint accepts.
Values arrive as strings (see :mod:`.forms`); fields turn them into ints, bools,
lists and hashes. An empty string means "unset" the way Stripe reads it
(``description=`` clears the description, ``metadata=`` clears all metadata), so
optional fields return ``None`` for it. Parameters the real API accepts but the
sandbox does not model are declared :data:`ANY` and kept as sent. The functions at
the end apply update params to a record the way Stripe does (set, unset, merge
metadata and addresses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.tables import Record

_INT = re.compile(r"^-?\d{1,18}$")


class Field:
    """A parameter type; ``coerce`` returns the Python value or raises a 400."""

    def coerce(self, value: Any, name: str) -> Any:
        return value


class Str(Field):
    def __init__(self, max_len: int = 5000) -> None:
        self.max_len = max_len

    def coerce(self, value: Any, name: str) -> Any:
        if not isinstance(value, str):
            raise StripeError.invalid(f"Invalid string: {_show(value)}", param=name)
        if value == "":
            return None
        if len(value) > self.max_len:
            raise StripeError.invalid(
                f"Invalid string: {value[:40]}...; must be at most {self.max_len} characters",
                param=name,
            )
        return value


class Int(Field):
    def __init__(self, lo: int | None = None, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi

    def coerce(self, value: Any, name: str) -> Any:
        if value == "":
            return None
        if not isinstance(value, str) or not _INT.match(value):
            raise StripeError.invalid(
                f"Invalid integer: {_show(value)}", param=name, code="parameter_invalid_integer"
            )
        number = int(value)
        if self.lo is not None and number < self.lo:
            raise StripeError.invalid(
                f"This value must be greater than or equal to {self.lo}.",
                param=name,
                code="parameter_invalid_integer",
            )
        if self.hi is not None and number > self.hi:
            raise StripeError.invalid(
                f"This value must be less than or equal to {self.hi}.",
                param=name,
                code="parameter_invalid_integer",
            )
        return number


class Bool(Field):
    def coerce(self, value: Any, name: str) -> Any:
        if value in ("true", "false"):
            return value == "true"
        if value == "":
            return None
        raise StripeError.invalid(f"Invalid boolean: {_show(value)}", param=name)


class Enum(Field):
    def __init__(self, *values: str) -> None:
        self.values = values

    def coerce(self, value: Any, name: str) -> Any:
        if value == "":
            return None
        if value not in self.values:
            options = ", ".join(self.values[:-1]) + f", or {self.values[-1]}"
            if len(self.values) == 2:
                options = f"{self.values[0]} or {self.values[1]}"
            raise StripeError.invalid(f"Invalid {name}: must be one of {options}", param=name)
        return value


class Timestamp(Field):
    """A unix timestamp; ``now`` where the endpoint allows it."""

    def __init__(self, allow_now: bool = False) -> None:
        self.allow_now = allow_now

    def coerce(self, value: Any, name: str) -> Any:
        if self.allow_now and value == "now":
            return "now"
        return Int(lo=0).coerce(value, name)


class DecimalStr(Field):
    def coerce(self, value: Any, name: str) -> Any:
        if value == "":
            return None
        try:
            number = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise StripeError.invalid(f"Invalid decimal: {_show(value)}", param=name)
        return number


class Metadata(Field):
    """``metadata[k]=v``: at most 50 keys of 40 chars, values of 500.

    ``metadata=`` (empty) coerces to None, which clears all keys on update;
    ``metadata[k]=`` (empty value) removes key ``k``.
    """

    def coerce(self, value: Any, name: str) -> Any:
        if value == "":
            return None
        if not isinstance(value, dict):
            raise StripeError.invalid(f"Invalid hash: {name}", param=name)
        if len(value) > 50:
            raise StripeError.invalid(
                "Invalid metadata: metadata can have up to 50 keys", param=name
            )
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(item, str):
                raise StripeError.invalid(f"Invalid string: {_show(item)}", param=f"{name}[{key}]")
            if len(key) > 40:
                raise StripeError.invalid(
                    "Metadata keys can have up to 40 characters", param=f"{name}[{key}]"
                )
            if len(item) > 500:
                raise StripeError.invalid(
                    "Metadata values can have up to 500 characters", param=f"{name}[{key}]"
                )
            out[key] = item
        return out


class StrHash(Field):
    """A free-form hash of strings (e.g. a meter event's ``payload``)."""

    def coerce(self, value: Any, name: str) -> Any:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise StripeError.invalid(f"Invalid hash: {name}", param=name)
        return dict(value)


class Arr(Field):
    """An array: ``a[0]=…&a[1]=…`` (decoded as a digit-keyed hash) or ``a[]=…``."""

    def __init__(self, item: Field, max_items: int = 100) -> None:
        self.item, self.max_items = item, max_items

    def coerce(self, value: Any, name: str) -> Any:
        if value == "":
            return []
        if isinstance(value, dict):
            if not all(k.isdigit() for k in value):
                raise StripeError.invalid(f"Invalid array: {name}", param=name)
            items = [value[k] for k in sorted(value, key=int)]
            names = [f"{name}[{k}]" for k in sorted(value, key=int)]
        elif isinstance(value, list):
            items, names = value, [f"{name}[{i}]" for i in range(len(value))]
        else:
            raise StripeError.invalid(f"Invalid array: {name}", param=name)
        if len(items) > self.max_items:
            raise StripeError.invalid(
                f"Invalid array: {name} can have at most {self.max_items} items", param=name
            )
        return [self.item.coerce(v, n) for v, n in zip(items, names, strict=True)]


class Obj(Field):
    """A hash with known keys; unknown keys are Stripe's ``parameter_unknown``."""

    def __init__(self, fields: dict[str, Field], required: Iterable[str] = ()) -> None:
        self.fields = fields
        self.required = tuple(required)

    def coerce(self, value: Any, name: str) -> Any:
        if value == "" and name:
            return None
        if not isinstance(value, dict):
            raise StripeError.invalid(f"Invalid hash: {name}", param=name or None)
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            raise StripeError.unknown_params([_join(name, k) for k in unknown])
        out: dict[str, Any] = {}
        for key, raw in value.items():
            out[key] = self.fields[key].coerce(raw, _join(name, key))
        for key in self.required:
            if out.get(key) is None:
                raise StripeError.missing(_join(name, key))
        return out

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.coerce(params, "")
        return result


class Either(Field):
    """An integer filter or a range hash: ``created=1`` or ``created[gte]=1``."""

    def coerce(self, value: Any, name: str) -> Any:
        if isinstance(value, dict):
            return RANGE.coerce(value, name)
        return Int().coerce(value, name)


ANY = Field()
RANGE = Obj({op: Int() for op in ("gt", "gte", "lt", "lte")})
EXPAND = Arr(Str(), max_items=50)
LIST_PARAMS: dict[str, Field] = {
    "limit": Int(lo=1, hi=100),
    "starting_after": Str(),
    "ending_before": Str(),
    "expand": EXPAND,
    "created": Either(),
}
ADDRESS = Obj({k: Str() for k in ("line1", "line2", "city", "state", "postal_code", "country")})


def spec(fields: dict[str, Field], required: Iterable[str] = (), listing: bool = False) -> Obj:
    """The top-level schema of one endpoint (``expand`` is always accepted)."""
    extra = LIST_PARAMS if listing else {"expand": EXPAND}
    return Obj({**extra, **fields}, required)


def _join(parent: str, key: str) -> str:
    return f"{parent}[{key}]" if parent else key


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- applying update params to a record -------------------------------------------

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def metadata(current: dict[str, str] | None, value: dict[str, str] | None) -> dict[str, str]:
    """Merge ``metadata[k]=v`` into the current metadata; ``""`` values delete keys."""
    if value is None:
        return {}
    merged = dict(current or {})
    for key, item in value.items():
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged


def address(current: dict[str, Any] | None, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """An address hash with every key present, merged over the current one."""
    if value is None:
        return None
    merged = dict(current or dict.fromkeys(ADDRESS_KEYS))
    merged.update(value)
    return {k: merged.get(k) for k in ADDRESS_KEYS}


def assign(record: Record, params: dict[str, Any], fields: Iterable[str]) -> None:
    """Copy the given ``fields`` present in ``params`` (``None`` unsets)."""
    for name in fields:
        if name in params:
            record[name] = params[name]


def apply_metadata(record: Record, params: dict[str, Any]) -> None:
    if "metadata" in params:
        record["metadata"] = metadata(record.get("metadata"), params["metadata"])
