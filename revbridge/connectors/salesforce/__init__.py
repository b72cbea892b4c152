"""Salesforce as the CRM: deals in, integration status out, change events for ingress.

- :class:`SalesforceCrm` (``adapter.py``) implements :class:`~revbridge.ports.CrmPort`;
  :func:`build` makes one from a ``kind: salesforce`` system of the policy.
- :func:`closed_won_signals` and :func:`verify_push` (``changes.py``) turn Change Data
  Capture events into :class:`DealSignal` values and check pushed events' signatures.
- :class:`SalesforceChangeFeed` (``streaming.py``) pulls change events after a replay id.

``client.py`` holds the REST calls and OAuth, ``mapping.py`` the record ↔ canonical
functions, ``classify.py`` the error table.
"""

from __future__ import annotations

from revbridge.connectors.salesforce.adapter import SalesforceCrm, build
from revbridge.connectors.salesforce.changes import DealSignal, closed_won_signals, verify_push
from revbridge.connectors.salesforce.streaming import SalesforceChangeFeed

__all__ = [
    "DealSignal",
    "SalesforceChangeFeed",
    "SalesforceCrm",
    "build",
    "closed_won_signals",
    "verify_push",
]
