"""Money: an exact ``Decimal`` amount in an ISO 4217 currency, with explicit rounding.

Rules this module enforces:

- never a float: ``Money(amount=1.5, ...)``, ``Money.of(1.5, ...)`` and a JSON number with a
  fraction are all refused; strings (``"12.50"``), ints and Decimals are exact and accepted;
  NaN and infinities are refused;
- arithmetic is exact (``+``, ``-``, ``* Decimal|int``) and never rounds; mixing currencies
  raises ``CurrencyMismatchError``, a programming error;
- rounding happens only when asked, to the currency's minor unit, with a named mode:
  ``price.quantize(rounding=ROUND_HALF_UP)``; ``allocate`` splits an amount without losing
  or creating a minor unit;
- in JSON the amount is a string, so nothing is lost: ``{"amount":"12000.00","currency":"GBP"}``.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from revbridge.canonical.model import CanonicalModel

__all__ = [
    "CURRENCY_CODES",
    "ISO_4217_MINOR_UNITS",
    "Currency",
    "CurrencyMismatchError",
    "ExactDecimal",
    "Money",
]

ISO_4217_PUBLISHED = "2026-01-01"
"""Publication date of the ISO 4217 list one (current currencies and funds) tabled below."""

_CODES_BY_MINOR_UNITS: dict[int | None, str] = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    2: """
        AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
        CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
        GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK
        LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
        NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS
        SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST
        XAD XCD XCG YER ZAR ZMW ZWG
    """,
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
    # Precious metals, bond-market units, SDR, the testing code and "no currency": the list
    # gives them no minor unit, so they are known but cannot be used for money here.
    None: "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX",
}

ISO_4217_MINOR_UNITS: Mapping[str, int | None] = MappingProxyType(
    {code: units for units, codes in _CODES_BY_MINOR_UNITS.items() for code in codes.split()}
)
"""Every active ISO 4217 alphabetic code and its minor-unit exponent (None: not applicable)."""

CURRENCY_CODES: tuple[str, ...] = tuple(
    sorted(code for code, units in ISO_4217_MINOR_UNITS.items() if units is not None)
)
"""The codes ``Currency`` accepts: every active code with a minor unit, sorted."""

# Arithmetic is exact or fails; rounding happens only in ``Money.quantize``.
_EXACT = decimal.Context(
    prec=1000, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow]
)
_ROUNDING = decimal.Context(prec=1000, traps=[decimal.InvalidOperation, decimal.Overflow])
_ROUNDING_MODES = frozenset(
    {
        decimal.ROUND_CEILING,
        decimal.ROUND_DOWN,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_UP,
        decimal.ROUND_05UP,
    }
)


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were combined: a programming error."""


class Currency(str):
    """An active ISO 4217 currency code with a minor unit, e.g. ``Currency("GBP")``."""

    __slots__ = ()

    def __new__(cls, code: str) -> Currency:
        if isinstance(code, Currency):
            return code
        if not isinstance(code, str):
            raise TypeError(f"a currency code is a string, not {type(code).__name__}")
        if code not in ISO_4217_MINOR_UNITS:
            hint = f" (codes are upper case: {code.upper()!r})" if code.upper() != code else ""
            raise ValueError(f"{code!r} is not an active ISO 4217 currency code{hint}")
        if ISO_4217_MINOR_UNITS[code] is None:
            raise ValueError(f"{code} has no minor unit in ISO 4217 and cannot price anything")
        return super().__new__(cls, code)

    @property
    def minor_units(self) -> int:
        """Digits after the decimal point: JPY 0, USD 2, BHD 3, CLF 4."""
        units = ISO_4217_MINOR_UNITS[self]
        assert units is not None  # guaranteed by __new__
        return units

    @property
    def quantum(self) -> Decimal:
        """The smallest unit as a Decimal: ``Decimal("0.01")`` for USD, ``Decimal("1")`` for JPY."""
        return Decimal(1).scaleb(-self.minor_units)

    def __repr__(self) -> str:
        return f"Currency({str(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(),
            serialization=core_schema.to_string_ser_schema(),
            ref="Currency",
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "title": "Currency",
            "description": f"ISO 4217 alphabetic code (list published {ISO_4217_PUBLISHED}).",
            "enum": list(CURRENCY_CODES),
        }


#: An amount written as text: the pattern the JSON Schema publishes and the model enforces.
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_TEXT = re.compile(DECIMAL_PATTERN)


def _reject_inexact(value: object) -> object:
    if isinstance(value, bool | float):
        raise PydanticCustomError(
            "inexact_number",
            "{kind} is not an exact amount; send a string such as '12.50' or an integer",
            {"kind": type(value).__name__},
        )
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "decimal_text",
            "an amount is written as digits with an optional sign and decimal point, such "
            "as '12.50' (no exponent, spaces or thousands separators)",
        )
    return value


MAX_INTEGER_DIGITS = 18
MAX_DECIMAL_PLACES = 18


def _require_finite_and_sane(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("decimal_not_finite", "an amount must be a finite number")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if (value and value.adjusted() >= MAX_INTEGER_DIGITS) or exponent < -MAX_DECIMAL_PLACES:
        raise PydanticCustomError(
            "decimal_out_of_range",
            "a number has at most {digits} digits before the point and {places} after it",
            {"digits": MAX_INTEGER_DIGITS, "places": MAX_DECIMAL_PLACES},
        )
    return value


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_reject_inexact),
    AfterValidator(_require_finite_and_sane),
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DECIMAL_PATTERN,
            "description": 'An exact decimal number written as a string, e.g. "12000.00".',
        }
    ),
]
"""A finite Decimal (at most 18 digits either side of the point) that refuses floats and
serialises to JSON as a plain decimal string."""


def _exact(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal or an int, not {type(value).__name__}")
    return Decimal(value)


class Money(CanonicalModel):
    """An exact amount of one currency. Immutable; arithmetic returns new values."""

    amount: ExactDecimal
    currency: Currency

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: Currency | str) -> Money:
        """``Money.of("12.50", "GBP")``; a float raises ``TypeError``."""
        if isinstance(amount, bool | float):
            raise TypeError(f"Money.of needs an exact amount (str, int, Decimal), not {amount!r}")
        return cls(amount=amount, currency=Currency(currency))

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        return cls(amount=Decimal(0), currency=Currency(currency))

    @classmethod
    def from_minor_units(cls, units: int, currency: Currency | str) -> Money:
        """``Money.from_minor_units(1250, "USD")`` is 12.50 USD; JPY 1250 is 1250 JPY."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise TypeError(f"minor units are an int, not {type(units).__name__}")
        cur = Currency(currency)
        return cls(amount=Decimal(units).scaleb(-cur.minor_units, context=_EXACT), currency=cur)

    @classmethod
    def total(cls, items: Iterable[Money], currency: Currency | str) -> Money:
        """The exact sum of ``items``, all in ``currency`` (zero when empty)."""
        result = cls.zero(currency)
        for item in items:
            result = result + item
        return result

    def to_minor_units(self) -> int:
        """The amount as an integer count of minor units (cents); ``quantize`` first if needed."""
        if not self.is_whole_minor_units():
            raise ValueError(
                f"{self} has more decimals than {self.currency}'s {self.currency.minor_units}; "
                "quantize it with an explicit rounding mode first"
            )
        return int(self.amount.scaleb(self.currency.minor_units, context=_EXACT))

    def is_whole_minor_units(self) -> bool:
        """True when the amount needs no rounding to be paid in this currency."""
        quantized = self.amount.quantize(self.currency.quantum, context=_ROUNDING)
        return quantized == self.amount

    def quantize(self, *, rounding: str) -> Money:
        """Round to the currency's minor unit with the named mode (``decimal.ROUND_*``)."""
        if rounding not in _ROUNDING_MODES:
            raise ValueError(f"unknown rounding mode {rounding!r}; use a decimal.ROUND_* constant")
        amount = self.amount.quantize(self.currency.quantum, rounding=rounding, context=_ROUNDING)
        return self._with(amount)

    def allocate(self, ratios: Sequence[Decimal | int]) -> list[Money]:
        """Split into parts proportional to ``ratios``; the parts always sum to ``self``.

        Each part is first rounded down to whole minor units; the minor units left over go
        one each to the parts with the largest remainders (ties: the earlier part).
        """
        weights = [_exact(ratio, "a ratio") for ratio in ratios]
        if not weights or any(weight < 0 for weight in weights) or sum(weights) == 0:
            raise ValueError("ratios must be non-negative and not all zero")
        units = self.to_minor_units()
        sign, remaining = (-1 if units < 0 else 1), abs(units)
        total_weight = sum(Fraction(weight) for weight in weights)
        exact_shares = [remaining * Fraction(weight) / total_weight for weight in weights]
        parts = [share.numerator // share.denominator for share in exact_shares]
        leftover = remaining - sum(parts)
        by_remainder = sorted(
            range(len(parts)), key=lambda index: (parts[index] - exact_shares[index], index)
        )
        for index in by_remainder[:leftover]:
            parts[index] += 1
        return [Money.from_minor_units(sign * part, self.currency) for part in parts]

    def _with(self, amount: Decimal) -> Money:
        return Money(amount=amount, currency=self.currency)

    def _check_same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {self.currency} and {other.currency} amounts"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other, "add")
        return self._with(_EXACT.add(self.amount, other.amount))

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other, "subtract")
        return self._with(_EXACT.subtract(self.amount, other.amount))

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            return NotImplemented
        return self._with(_EXACT.multiply(self.amount, Decimal(factor)))

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return self._with(_EXACT.minus(self.amount))

    def _ordered(self, other: object, operation: str) -> tuple[Decimal, Decimal] | None:
        if not isinstance(other, Money):
            return None
        self._check_same_currency(other, operation)
        return self.amount, other.amount

    def __lt__(self, other: object) -> bool:
        pair = self._ordered(other, "compare")
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._ordered(other, "compare")
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._ordered(other, "compare")
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._ordered(other, "compare")
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def __str__(self) -> str:
        return f"{_decimal_text(self.amount)} {self.currency}"
