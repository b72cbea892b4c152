"""Money never takes a float, never mixes currencies, and rounds only when asked."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from revbridge.canonical.money import (
    ISO_4217_MINOR_UNITS,
    Currency,
    CurrencyMismatchError,
    Money,
)
from revbridge.testing.strategies import currencies

MODEST = settings(max_examples=60, deadline=None)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


# ---------------------------------------------------------------- no floats, ever


def test_constructor_refuses_a_float_amount() -> None:
    with pytest.raises(ValidationError, match="not an exact amount"):
        Money(amount=1.5, currency="USD")


def test_of_refuses_a_float_amount() -> None:
    with pytest.raises(TypeError, match="exact amount"):
        Money.of(1.5, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("number", ["1.5", "12.50", "1e2", "0.1"])
def test_json_number_amount_is_refused(number: str) -> None:
    with pytest.raises(ValidationError, match="not an exact amount"):
        Money.model_validate_json(f'{{"amount": {number}, "currency": "USD"}}')


def test_bool_amount_is_refused() -> None:
    with pytest.raises(ValidationError):
        Money(amount=True, currency="USD")


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_nan_and_infinity_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Money.of(text, "USD")
    with pytest.raises(ValidationError):
        Money.model_validate_json(f'{{"amount": "{text}", "currency": "USD"}}')


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12.50", Decimal("12.50")), (12, Decimal(12)), (Decimal("0.0125"), Decimal("0.0125"))],
)
def test_strings_ints_and_decimals_are_exact(raw: str | int | Decimal, expected: Decimal) -> None:
    assert Money.of(raw, "GBP").amount == expected


def test_integer_json_number_is_accepted() -> None:
    assert Money.model_validate_json('{"amount": 1200, "currency": "JPY"}') == Money.of(1200, "JPY")


def test_amount_serialises_as_a_string_keeping_trailing_zeros() -> None:
    assert Money.of("12000.00", "GBP").model_dump_json() == '{"amount":"12000.00","currency":"GBP"}'
    thousand = Money.of(Decimal("1E+3"), "JPY")
    assert thousand.model_dump_json() == '{"amount":"1000","currency":"JPY"}'


@pytest.mark.parametrize(
    "text", ["1e5", "1E+3", "1e18", "1e-19", " 12.50", "12,500.00", "+5", ".5"]
)
def test_amount_text_is_plain_digits_as_the_schema_says(text: str) -> None:
    with pytest.raises(ValidationError, match="no exponent"):
        Money.model_validate_json(f'{{"amount": "{text}", "currency": "USD"}}')


def test_money_is_immutable() -> None:
    price = usd("1.00")
    with pytest.raises(ValidationError):
        price.amount = Decimal(2)  # type: ignore[misc]


# ---------------------------------------------------------------- currencies


def test_currency_table_has_the_known_exponents() -> None:
    assert (Currency("JPY").minor_units, Currency("USD").minor_units) == (0, 2)
    assert (Currency("BHD").minor_units, Currency("CLF").minor_units) == (3, 4)
    assert len(ISO_4217_MINOR_UNITS) == 178
    assert {"XCG", "ZWG", "SLE"} <= ISO_4217_MINOR_UNITS.keys()
    assert not {"ANG", "BGN", "HRK", "SLL", "ZWL"} & ISO_4217_MINOR_UNITS.keys()


@pytest.mark.parametrize("code", ["usd", "US", "XYZ", "HRK", "", "USDD"])
def test_unknown_or_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Currency(code)
    with pytest.raises(ValidationError):
        Money.model_validate({"amount": "1", "currency": code})


def test_codes_without_minor_unit_cannot_price() -> None:
    with pytest.raises(ValueError, match="no minor unit"):
        Currency("XAU")


# ---------------------------------------------------------------- arithmetic


def test_same_currency_arithmetic_is_exact() -> None:
    assert usd("0.10") + usd("0.20") == usd("0.30")
    assert usd("10.00") - usd("0.01") == usd("9.99")
    assert usd("0.0125") * 3 == usd("0.0375")
    assert Decimal("1.5") * usd("2.00") == usd("3.000")
    assert -usd("5") == usd("-5")
    assert Money.total([usd("1.10"), usd("2.20")], "USD") == usd("3.30")
    assert Money.total([], "EUR") == Money.zero("EUR")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a >= b,
        lambda a, b: Money.total([a, b], "USD"),
    ],
)
def test_mixing_currencies_raises(operation: Callable[[Money, Money], object]) -> None:
    with pytest.raises(CurrencyMismatchError, match="USD and EUR"):
        operation(usd("1"), Money.of("1", "EUR"))


def test_currency_mismatch_is_a_value_error_not_a_domain_error() -> None:
    assert issubclass(CurrencyMismatchError, ValueError)


def test_multiplying_by_a_float_raises() -> None:
    with pytest.raises(TypeError):
        usd("1.00") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd("1.00") * usd("2.00")  # type: ignore[operator]


def test_comparison_orders_amounts() -> None:
    assert usd("1.00") < usd("1.01") <= usd("1.010") < usd("2")
    assert usd("1.0") == usd("1.00")
    assert usd("1") != Money.of("1", "EUR")


# ---------------------------------------------------------------- explicit rounding


@pytest.mark.parametrize(
    ("amount", "currency", "half_even", "half_up"),
    [
        ("2.345", "USD", "2.34", "2.35"),
        ("2.355", "USD", "2.36", "2.36"),
        ("-2.345", "USD", "-2.34", "-2.35"),
        ("2.5", "JPY", "2", "3"),
        ("3.5", "JPY", "4", "4"),
        ("1.2345", "BHD", "1.234", "1.235"),
        ("0.00005", "CLF", "0.0000", "0.0001"),
    ],
)
def test_quantize_rounds_to_minor_units_with_the_named_mode(
    amount: str, currency: str, half_even: str, half_up: str
) -> None:
    money = Money.of(amount, currency)
    assert str(money.quantize(rounding=ROUND_HALF_EVEN).amount) == half_even
    assert str(money.quantize(rounding=ROUND_HALF_UP).amount) == half_up


def test_quantize_needs_a_known_rounding_mode() -> None:
    with pytest.raises(TypeError):
        usd("1.005").quantize()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="rounding mode"):
        usd("1.005").quantize(rounding="HALF_UP")


def test_arithmetic_never_rounds_on_its_own() -> None:
    assert (usd("0.01") * Decimal("0.5")).amount == Decimal("0.005")


# ---------------------------------------------------------------- minor units


@pytest.mark.parametrize(
    ("units", "currency", "amount"),
    [(1250, "USD", "12.50"), (1250, "JPY", "1250"), (1250, "BHD", "1.250"), (-5, "EUR", "-0.05")],
)
def test_minor_units_round_trip(units: int, currency: str, amount: str) -> None:
    money = Money.from_minor_units(units, currency)
    assert money == Money.of(amount, currency)
    assert money.to_minor_units() == units


@given(currency=currencies(), units=st.integers(-(10**15), 10**15))
@MODEST
def test_minor_units_round_trip_for_every_currency(currency: Currency, units: int) -> None:
    assert Money.from_minor_units(units, currency).to_minor_units() == units


def test_to_minor_units_refuses_to_round_silently() -> None:
    with pytest.raises(ValueError, match="quantize"):
        usd("12.345").to_minor_units()
    assert usd("12.3").to_minor_units() == 1230


def test_from_minor_units_takes_only_ints() -> None:
    with pytest.raises(TypeError):
        Money.from_minor_units(12.5, "USD")  # type: ignore[arg-type]


# ---------------------------------------------------------------- allocation


def test_allocate_gives_leftover_cents_to_the_largest_remainders() -> None:
    assert usd("100.00").allocate([1, 1, 1]) == [usd("33.34"), usd("33.33"), usd("33.33")]
    assert usd("0.05").allocate([3, 7]) == [usd("0.02"), usd("0.03")]
    assert usd("-100.00").allocate([1, 1, 1]) == [usd("-33.34"), usd("-33.33"), usd("-33.33")]
    assert Money.of("10", "JPY").allocate([1, 0, 2]) == [
        Money.of("3", "JPY"),
        Money.of("0", "JPY"),
        Money.of("7", "JPY"),
    ]


@pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1]])
def test_allocate_refuses_meaningless_ratios(ratios: list[int]) -> None:
    with pytest.raises(ValueError, match="ratios"):
        usd("1.00").allocate(ratios)


def test_allocate_refuses_float_ratios_and_unquantized_amounts() -> None:
    with pytest.raises(TypeError):
        usd("1.00").allocate([0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="quantize"):
        usd("1.005").allocate([1, 1])


@given(
    currency=currencies(),
    units=st.integers(-(10**12), 10**12),
    ratios=st.lists(
        st.decimals(0, 1000, places=3) | st.integers(0, 1000), min_size=1, max_size=8
    ).filter(lambda values: sum(values) > 0),
)
@MODEST
def test_allocate_never_loses_or_creates_a_minor_unit(
    currency: Currency, units: int, ratios: list[Decimal | int]
) -> None:
    money = Money.from_minor_units(units, currency)
    parts = money.allocate(ratios)
    assert len(parts) == len(ratios)
    assert Money.total(parts, currency) == money
    assert all(part.is_whole_minor_units() for part in parts)
    with decimal.localcontext(prec=60):
        exact = [Decimal(units) * Decimal(r) / sum(Decimal(x) for x in ratios) for r in ratios]
        for part, share in zip(parts, exact, strict=True):
            assert abs(part.to_minor_units() - share) < 1  # each part is within one unit


@pytest.mark.parametrize("text", ["-1000000000000000000", "0.0000000000000000001"])
def test_absurd_magnitudes_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="at most 18 digits"):
        Money.model_validate_json(f'{{"amount": "{text}", "currency": "USD"}}')


def test_the_widest_amounts_are_accepted() -> None:
    assert Money.of("999999999999999999.999999999999999999", "USD").amount.adjusted() == 17
    assert Money.of("-0.000000000000000001", "USD").amount == Decimal("-1e-18")
