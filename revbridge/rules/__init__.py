"""Validation and enrichment rules: pure functions over canonical objects and the policy."""
