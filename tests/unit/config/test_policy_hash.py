"""policy_hash depends on the policy's content, not on its layout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from revbridge.config import policy_hash, validate_file
from revbridge.errors import ConfigError

MakeVariant = Callable[..., Any]  # the ``variant`` fixture (conftest.py)
PolicyFile = Any  # conftest.PolicyFile


def test_hash_of_path_text_and_report_agree(example_file: PolicyFile) -> None:
    digest = policy_hash(example_file.path)

    assert len(digest) == 64
    assert policy_hash(example_file.text) == digest
    assert policy_hash(str(example_file.path)) == digest
    assert validate_file(example_file.path).sha256 == digest


def test_comments_layout_and_key_order_do_not_change_the_hash(
    variant: MakeVariant, example_file: PolicyFile
) -> None:
    new = variant(
        ("# SaaS", "# software as a service"),
        ("version: 1\ncompany: Acme Cloud\n", "company: Acme Cloud\nversion: 1\n"),
        (
            "    rate_limit: {requests_per_s: 20, burst: 40}\n",
            "    rate_limit:\n      burst: 40\n      requests_per_s: 20\n",
        ),
    )

    assert policy_hash(new.path) == policy_hash(example_file.path)


def test_any_value_changes_the_hash(variant: MakeVariant, example_file: PolicyFile) -> None:
    new = variant(('USD: "12000.00"', 'USD: "12000.01"'))

    assert policy_hash(new.path) != policy_hash(example_file.path)


def test_hash_of_malformed_text_raises_config_error() -> None:
    with pytest.raises(ConfigError):
        policy_hash("version: 1\nsystems: [\n")


def test_hash_of_a_missing_file_raises_config_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        policy_hash(str(tmp_path / "missing.yaml"))
