"""Port contract suites: what every adapter of a port promises, as abstract test classes.

One class per port of :mod:`revbridge.ports`. A connector's tests subclass the one for
its port, provide the fixtures it lists (the adapter wired to its sandbox over real
HTTP, seed data, and a read-only view of the sandbox for effects the port cannot read
back), and inherit every test::

    class TestNetSuiteErp(ErpPortContract):
        @pytest.fixture
        def adapter(self, netsuite_sandbox: str) -> NetSuiteErp: ...

The classes are not collected themselves (their names do not start with ``Test``). A
fixture left out fails the tests that need it with the fixture's name and what it should
hold. The tests speak the port's words only: canonical objects in, canonical objects
out, and ``revbridge.errors`` classes, never a vendor's exception.
"""

from __future__ import annotations

from revbridge.testing.contracts.billing import BillingPortContract, BillingRecords
from revbridge.testing.contracts.crm import (
    ChangeFeedPortContract,
    CrmPortContract,
    CrmRecords,
    SeededDeal,
)
from revbridge.testing.contracts.erp import ErpPortContract, ErpRecords
from revbridge.testing.contracts.tax import TaxPortContract, TaxRecords

__all__ = [
    "BillingPortContract",
    "BillingRecords",
    "ChangeFeedPortContract",
    "CrmPortContract",
    "CrmRecords",
    "ErpPortContract",
    "ErpRecords",
    "SeededDeal",
    "TaxPortContract",
    "TaxRecords",
]
