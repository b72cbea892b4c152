"""NetSuite sandbox: SuiteTalk REST web services of one OneWorld account.

Emulates the REST record service (``/services/rest/record/v1``: customers, sales
orders, invoices, customer payments, sale items, subsidiaries, currencies, departments,
classes, locations, terms, accounts, tax codes; create 204 + ``Location``, ``PATCH``,
``DELETE``, upsert with ``PUT .../eid:<external id>``, record lists with ``?q=``
filters), a SuiteQL subset (``/services/rest/query/v1/suiteql``), TBA (OAuth 1.0a
HMAC-SHA256) and OAuth 2.0 bearer authentication, the account concurrency limit (HTTP
429) and sales order approval.

Billing: ``POST salesOrder/{id}/!transform/invoice`` bills the order's open lines, in
whole or in part (``item.items`` of ``{orderLine, quantity?, amount?}``, refused beyond
what remains), with SuiteTax ``taxDetails`` setting the invoice's tax (:mod:`.invoices`).
A ``customerPayment`` applies to open invoices of its customer (``apply.items`` of
``{doc, apply, amount}``) and moves their ``amountPaid``/``amountRemaining``; refusals
store nothing (:mod:`.payments`). External ids are unique per record type: a second
record with one gets ``DUP_RCRD`` "This record already exists." ``create_app`` options:

* ``reference`` — the account's estate (:mod:`.reference`; default :data:`DEFAULT_ESTATE`)
* ``account_id`` — realm of TBA signatures (default ``1234567_SB1``)
* ``tba_credentials`` / ``bearer_tokens`` — accepted credentials (:data:`DEFAULT_TBA`,
  :data:`DEFAULT_BEARER_TOKEN`)
* ``concurrency_limit`` (5), ``service_time_ms`` (0) — the account's concurrency governance
* ``approval_delay_s`` (0.5), ``reject_memo_marker`` (``"REJECT"``), ``rejection_status``
  (``"C"``) — sales order approval
* ``error_type_style`` — ``"rfc2616"`` (default) or ``"rfc9110"`` ``type`` URIs in errors
* ``faults``, ``persist`` — shared sandbox fault injection and SQLite persistence

Sandbox-only route: ``GET``/``PUT /_sandbox/netsuite/config`` reads or changes
``concurrency_limit``, ``service_time_ms``, ``approval_delay_s``, ``reject_memo_marker``,
``rejection_status``, ``error_style`` and ``account_id`` at run time.
"""

from __future__ import annotations

from revbridge_sandboxes.netsuite.app import DEFAULT_PORT, create_app
from revbridge_sandboxes.netsuite.auth import DEFAULT_BEARER_TOKEN, DEFAULT_TBA, TbaCredential
from revbridge_sandboxes.netsuite.reference import (
    DEFAULT_ESTATE,
    DEFAULT_ITEM_EXTERNAL_IDS,
    Estate,
    RequiredDimension,
)

__all__ = [
    "DEFAULT_BEARER_TOKEN",
    "DEFAULT_ESTATE",
    "DEFAULT_ITEM_EXTERNAL_IDS",
    "DEFAULT_PORT",
    "DEFAULT_TBA",
    "Estate",
    "RequiredDimension",
    "TbaCredential",
    "create_app",
]
