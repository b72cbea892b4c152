"""Emulator of the Avalara AvaTax REST v2 API (transactions, tax calculation, addresses).

It calculates sales tax and VAT from a readable rate table (:mod:`.rates`) for configured
companies and their nexus (:mod:`.companies`), records invoice documents with AvaTax's
create / createoradjust / commit / void / adjust semantics (:mod:`.transactions`: a
committed code is reserved for ``create`` but ``createoradjust`` adjusts it, so sending
a lost ``commit: true`` request again keeps one committed document; committing again is
harmless, committing a voided document is refused), lists a company's documents with
``$filter``/``$orderBy``/``$top``/``$skip`` and ``@nextLink`` (:mod:`.listing`), and
answers errors in the AvaTax ``ErrorResult`` shape. See :mod:`.app` for the routes.
"""

from __future__ import annotations

from revbridge_sandboxes.avalara.app import DEFAULT_PORT, create_app
from revbridge_sandboxes.avalara.companies import Company, default_companies

__all__ = ["DEFAULT_PORT", "Company", "create_app", "default_companies"]
