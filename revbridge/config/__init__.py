"""Configuration: the policy file and the process settings.

This package owns two things and nothing else:

- the **policy file** (``revbridge.yaml``): the business's declarations, versioned with the
  code that runs them: which systems exist and how to call them (with credentials only as
  environment variable references), which system is the record for each domain and field,
  the legal entities and how billing addresses route to them, the product mappings to the
  ERP, billing and tax systems, who owns each class of exception, and the SLA targets.
  ``policy`` is its schema; ``load`` reads, validates (every problem, with its line and
  column), hashes and compares it in business terms.
- the **process settings** (``settings``): where this process keeps its data and listens,
  from ``REVBRIDGE_*`` environment variables.

Modules, one noun each:

- ``policy``: the ``Policy`` model and its sections (legal entities, routing, products,
  ownership, exceptions, SLA, alerts); ``systems``: the ``systems`` section and call
  policies (retry, rate limit); ``codes``: ISO country and currency tables.
- ``load``: ``validate_file``, ``load_policy``, ``policy_hash``, ``diff_files``;
  ``source``: YAML text to data with node positions; ``report``: ``Problem`` and ``Report``.
- ``sections``, ``checks``, ``coverage``, ``secretscan``: the checks across sections
  (references, routing overlaps and gaps, inline secrets); ``diff``: ``diff_policies``.
- ``settings``: ``Settings``.

It imports nothing of revbridge but :mod:`revbridge.errors`.
"""

from __future__ import annotations

from revbridge.config.load import (
    diff_files,
    diff_policies,
    load_policy,
    policy_hash,
    validate_file,
    validate_text,
)
from revbridge.config.policy import Policy
from revbridge.config.report import Problem, Report
from revbridge.config.settings import Settings

__all__ = [
    "Policy",
    "Problem",
    "Report",
    "Settings",
    "diff_files",
    "diff_policies",
    "load_policy",
    "policy_hash",
    "validate_file",
    "validate_text",
]
