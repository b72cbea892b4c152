"""Avalara AvaTax connector: the tax port on AvaTax REST v2.

:class:`AvalaraTax` records an order's tax as an uncommitted document whose code is
derived from the order id (``createoradjust``, so a retry adjusts instead of
duplicating), voids it as a compensation and commits it when the invoice posts;
:func:`build` makes one from a policy system entry (Basic with an account id and
license key or a user name and password, or a bearer token). Modules: ``client``
(REST calls and the auth header), ``mapping`` (canonical ↔ AvaTax models),
``classify`` (errors) and ``adapter`` (the port and the factory).
"""

from __future__ import annotations

from revbridge.connectors.avalara.adapter import AvalaraTax, build

__all__ = ["AvalaraTax", "build"]
