"""Ids are visible text: control, format (bidi), surrogate and separator characters are
refused, letters of every script are not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from revbridge.canonical.ids import ExternalRef, check_id_characters


@pytest.mark.parametrize(
    ("ident", "code"),
    [
        ("006A\x00", "U+0000"),  # NUL: PostgreSQL cannot store it
        ("inv\x1b[31m", "U+001B"),  # ESC: terminal colours in a log line
        ("cus\x85", "U+0085"),  # C1 next line
        ("invoice\u202egpj.exe", "U+202E"),  # right-to-left override
        ("a\u202ab", "U+202A"),  # left-to-right embedding
        ("a\u2066b\u2069", "U+2066"),  # left-to-right isolate
        ("a\u2069", "U+2069"),  # pop directional isolate
        ("a\u200bb", "U+200B"),  # zero-width space
        ("a\u2028b", "U+2028"),  # line separator
    ],
)
def test_an_external_id_with_a_hidden_character_is_refused_naming_it(ident: str, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ExternalRef(system="crm", id=ident)
    (error,) = raised.value.errors()
    assert error["loc"] == ("id",)
    assert code in error["msg"]


@pytest.mark.parametrize(
    "ident", ["006Dn000004QmZtIAK", "CUST 42", "Zürich-7", "東京-001", "שלום-5", "مرحبا-9"]
)
def test_ids_in_any_script_with_spaces_and_punctuation_pass(ident: str) -> None:
    assert ExternalRef(system="erp", id=ident).id == ident
    assert check_id_characters(ident) == ident


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match="U\\+D800, a surrogate"):
        check_id_characters("a\ud800")
    with pytest.raises(ValidationError):
        ExternalRef(system="crm", id="a\ud800")
