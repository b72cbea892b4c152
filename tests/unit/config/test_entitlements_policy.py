"""The entitlements section: optional, and each mistake reported at its node."""

from __future__ import annotations

from pathlib import Path

import pytest

from revbridge.config import validate_file
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.policy import FAILURE_CLASSES

SECTION = """
entitlements:
  trigger: subscription_active
  endpoints:
    - name: provisioning
      url: {url}
      secret: {secret}
      timeout_s: 10
    - name: {second}
      url: https://licensing.example.com/hooks/revbridge
      secret: {{env: REVBRIDGE_LICENSING_SECRET}}
"""


def policy_with(
    tmp_path: Path,
    url: str = "http://127.0.0.1:8099/activations",
    secret: str = "{env: REVBRIDGE_PROVISIONING_SECRET}",
    second: str = "licensing",
) -> tuple[Path, str]:
    text = EXAMPLE_POLICY.read_text(encoding="utf-8") + SECTION.format(
        url=url, secret=secret, second=second
    )
    path = tmp_path / "revbridge.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def at(path: Path, text: str, needle: str, after: str = "entitlements:") -> str:
    offset = text.index(needle, text.index(after, text.rindex("\nentitlements:")))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{path}:{line}:{col}"


def problems(path: Path) -> list[str]:
    return [str(problem) for problem in validate_file(path).problems]


def test_without_the_section_nothing_is_sent() -> None:
    report = validate_file(EXAMPLE_POLICY)

    assert report.policy is not None
    assert report.policy.entitlements is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8099/activations",
        "http://localhost:8099/activations",
        "https://provisioning.example.com/activations",
    ],
)
def test_a_valid_section_loads(tmp_path: Path, url: str) -> None:
    path, _ = policy_with(tmp_path, url=url)

    report = validate_file(path)

    assert report.problems == []
    assert report.policy is not None
    section = report.policy.entitlements
    assert section is not None
    assert section.trigger == "subscription_active"
    assert [e.name for e in section.endpoints] == ["provisioning", "licensing"]
    assert section.endpoints[0].secret.env == "REVBRIDGE_PROVISIONING_SECRET"


def test_plain_http_to_another_host_is_refused(tmp_path: Path) -> None:
    path, text = policy_with(tmp_path, url="http://provisioning.example.com/activations")

    assert problems(path) == [
        f"{at(path, text, 'http://provisioning')}: entitlements.endpoints[0].url: url must use "
        "https:// (plain http:// only for localhost or 127.0.0.1): the activation names the "
        "customer and what they bought"
    ]


def test_two_endpoints_with_one_name_are_reported_at_the_second(tmp_path: Path) -> None:
    path, text = policy_with(tmp_path, second="provisioning")

    assert problems(path) == [
        f"{at(path, text, 'provisioning', after='timeout_s: 10')}: entitlement endpoint "
        "name 'provisioning' is already used by endpoint 1"
    ]


def test_an_inline_secret_is_refused_once_without_repeating_it(tmp_path: Path) -> None:
    path, _ = policy_with(tmp_path, secret="whsec_c2VjcmV0LXZhbHVlLWZvci10ZXN0cw==")

    found = problems(path)

    assert len(found) == 1
    assert "inline secret" in found[0]
    assert "entitlements.endpoints[0].secret" in found[0]
    assert "c2VjcmV0" not in found[0]


def test_a_secret_must_name_an_environment_variable(tmp_path: Path) -> None:
    path, _ = policy_with(tmp_path, secret="{env: lower-case}")

    [problem] = problems(path)

    assert "entitlements.endpoints[0].secret.env" in problem
    assert "is not an environment variable name" in problem


def test_an_unknown_trigger_is_reported(tmp_path: Path) -> None:
    path, text = policy_with(tmp_path)
    path.write_text(text.replace("trigger: subscription_active", "trigger: contract_signed"))

    [problem] = problems(path)

    assert "entitlements.trigger" in problem
    assert "first_invoice_paid" in problem


def test_entitlement_failures_have_classes_the_example_routes() -> None:
    report = validate_file(EXAMPLE_POLICY)
    assert report.policy is not None

    assert {"entitlements", "entitlements.rejected", "entitlements.unavailable"} <= set(
        FAILURE_CLASSES
    )
    owner = report.policy.exceptions.owner_for("entitlements.rejected")
    assert owner == "integration_support"
