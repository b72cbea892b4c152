"""Test kit shipped with revbridge: servers on ephemeral ports, builders, contract suites."""
