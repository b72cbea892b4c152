"""NetSuite connector: the ERP port on SuiteTalk REST web services.

:class:`NetSuiteErp` upserts customers and sales orders by external id, reads an
order's status and closes its lines; :func:`build` makes one from a policy system entry
(TBA with HMAC-SHA256 signatures, or an OAuth 2.0 access token). Modules:
``auth`` (signing), ``client`` (REST calls), ``mapping`` (canonical ↔ records),
``classify`` (errors) and ``adapter`` (the port and the factory).
"""

from __future__ import annotations

from revbridge.connectors.netsuite.adapter import NetSuiteErp, build

__all__ = ["NetSuiteErp", "build"]
