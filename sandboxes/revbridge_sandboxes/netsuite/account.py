"""The emulated NetSuite account: its records and the options that shape its behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from revbridge_sandboxes.netsuite.errors import ErrorStyle
from revbridge_sandboxes.netsuite.state import NetSuiteState

#: Account ids look like ``1234567`` (production) or ``1234567_SB1`` (sandbox).
DEFAULT_ACCOUNT_ID = "1234567_SB1"


@dataclass
class Options:
    """Behaviour knobs; ``PUT /_sandbox/netsuite/config`` changes them at run time."""

    account_id: str = DEFAULT_ACCOUNT_ID
    #: Concurrent in-flight requests allowed across the account (NetSuite: 5 or 15 + 10/licence).
    concurrency_limit: int = 5
    #: Time each admitted request spends inside its concurrency slot, in milliseconds.
    service_time_ms: float = 0.0
    #: Seconds after creation at which a pending sales order is approved (0: at once).
    approval_delay_s: float = 0.5
    #: Orders whose memo contains this text are rejected instead of approved.
    reject_memo_marker: str | None = "REJECT"
    #: Status letter a rejected order ends in: ``C`` Cancelled or ``H`` Closed.
    rejection_status: Literal["C", "H"] = "C"
    #: ``type`` URIs of error bodies (see :mod:`.errors`).
    error_style: ErrorStyle = "rfc2616"
    #: Duplicate detection set to block: a new company customer whose name matches another
    #: customer's in the same subsidiary is refused (``DUP_ENTITY``).
    block_duplicate_names: bool = True


@dataclass
class Account:
    state: NetSuiteState
    options: Options

    def now(self) -> float:
        return self.state.clock()
