"""The account's records in memory: by type and internal id, indexed by external id.

Records are stored as JSON-able dicts in their request shape (references as
``{"id": ...}``, sublists as lists of line dicts); keys starting with ``_`` are internal
(approval timing, dependent links) and never rendered. Internal ids are numeric strings
drawn from one sequence per family, so transactions of every type share one id space
(as in NetSuite's ``transaction`` table). External ids are unique per record type, and
across all item types.

Handlers hold :attr:`NetSuiteState.lock` for a whole read-validate-write, so concurrent
requests (and tests reading the state from another thread) see consistent records.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from revbridge_sandboxes.netsuite.reference import Estate
from revbridge_sandboxes.netsuite.schema import ITEM_TYPES, SPECS

Record = dict[str, Any]

_FAMILY_BASE = {"entity": 1000, "transaction": 5000, "item": 1000, "list": 0}
_TRAN_PREFIX = {"salesOrder": "SO", "invoice": "INV", "customerPayment": "PYMT"}


def ref(rid: str | None) -> dict[str, str] | None:
    return None if rid is None else {"id": rid}


def refs(ids: tuple[str, ...]) -> dict[str, list[dict[str, str]]]:
    return {"items": [{"id": i} for i in ids]}


def estate_records(estate: Estate) -> dict[str, dict[str, Record]]:
    """The estate as stored records, by record type and id."""
    out: dict[str, dict[str, Record]] = {name: {} for name in SPECS}
    for s in estate.subsidiaries:
        out["subsidiary"][s.id] = {
            "id": s.id,
            "name": s.name,
            "parent": ref(s.parent),
            "country": {"id": s.country},
            "currency": ref(s.currency),
            "state": s.state,
            "isInactive": False,
            "isElimination": False,
            "_currencies": list(s.currencies),
        }
    for c in estate.currencies:
        out["currency"][c.id] = {
            "id": c.id,
            "name": c.name,
            "symbol": c.symbol,
            "displaySymbol": c.display_symbol,
            "isBaseCurrency": c.id == "1",
            "isInactive": False,
            "exchangeRate": 1.0,
        }
    every = tuple(s.id for s in estate.subsidiaries)
    for rtype, segments in (("department", estate.departments), ("classification", estate.classes)):
        for seg in segments:
            out[rtype][seg.id] = {
                "id": seg.id,
                "name": seg.name,
                "subsidiary": refs(every),
                "includeChildren": True,
                "isInactive": False,
            }
    for seg in estate.locations:
        out["location"][seg.id] = {
            "id": seg.id,
            "name": seg.name,
            "subsidiary": ref(seg.subsidiary),
            "isInactive": False,
        }
    for t in estate.terms:
        out["term"][t.id] = {"id": t.id, "name": t.name, "daysUntilNetDue": t.days}
    for a in estate.accounts:
        out["account"][a.id] = {
            "id": a.id,
            "acctNumber": a.number,
            "acctName": a.name,
            "acctType": "Income",
            "isInactive": False,
        }
    for tax in estate.tax_codes:
        out["salesTaxItem"][tax.id] = {
            "id": tax.id,
            "itemId": tax.name,
            "rate": tax.rate,
            "isInactive": False,
        }
    for item in estate.items:
        out[item.record_type][item.id] = {
            "id": item.id,
            "externalId": item.external_id,
            "itemId": item.item_id,
            "displayName": item.display_name,
            "salesDescription": item.display_name,
            "rate": item.rate,
            "subsidiary": refs(item.subsidiaries),
            "includeChildren": False,
            "incomeAccount": ref(item.income_account),
            "class": ref(item.klass),
            "isInactive": False,
            "isTaxable": True,
            "isFulfillable": item.record_type == "nonInventorySaleItem",
        }
    return {rtype: {rid: _clean(rec) for rid, rec in recs.items()} for rtype, recs in out.items()}


def _clean(record: Record) -> Record:
    return {k: v for k, v in record.items() if v is not None}


def _namespace(record_type: str) -> str:
    return "item" if record_type in ITEM_TYPES else record_type


class NetSuiteState:
    """Every record of the emulated account, plus the figures shown on ``/_sandbox/state``."""

    def __init__(self, estate: Estate, clock: Callable[[], float] = time.time) -> None:
        self.estate = estate
        self.clock = clock
        self.lock = threading.RLock()
        #: Extra figures merged into the snapshot (the concurrency governor's).
        self.figures: Callable[[], dict[str, Any]] = dict
        #: Called by :meth:`reset` (the governor clears its counters).
        self.on_reset: Callable[[], None] = lambda: None
        self.records: dict[str, dict[str, Record]] = {}
        self._external: dict[tuple[str, str], tuple[str, str]] = {}
        self._counters: dict[str, int] = {}
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self._load(estate_records(self.estate), {})
        self.on_reset()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            records = copy.deepcopy(self.records)
            counters = dict(self._counters)
        return {
            "records": records,
            "counts": {rtype: len(recs) for rtype, recs in records.items()},
            "counters": counters,
            **self.figures(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._load(copy.deepcopy(data.get("records", {})), dict(data.get("counters", {})))

    def _load(self, records: dict[str, dict[str, Record]], counters: dict[str, int]) -> None:
        self.records = {name: dict(records.get(name, {})) for name in SPECS}
        self._external = {}
        for rtype, recs in self.records.items():
            for rid, rec in recs.items():
                if rec.get("externalId"):
                    self._external[(_namespace(rtype), rec["externalId"])] = (rtype, rid)
        self._counters = counters
        for rtype, recs in self.records.items():
            family = SPECS[rtype].family
            key = family if family != "list" else rtype
            top = max((int(r) for r in recs if r.lstrip("-").isdigit()), default=0)
            self._counters[key] = max(self._counters.get(key, 0), _FAMILY_BASE[family], top)

    # -- reads -------------------------------------------------------------------------------

    def get(self, record_type: str, rid: str) -> Record | None:
        return self.records[record_type].get(rid)

    def by_external_id(self, record_type: str, external_id: str) -> Record | None:
        found = self._external.get((_namespace(record_type), external_id))
        if found is None or found[0] != record_type:
            return None
        return self.records[record_type].get(found[1])

    def find(
        self, targets: tuple[str, ...], rid: str | None = None, external_id: str | None = None
    ) -> tuple[str, Record] | None:
        """The record of one of ``targets`` with this internal or external id."""
        for rtype in targets:
            rec = self.get(rtype, rid) if rid is not None else None
            if rec is None and external_id is not None:
                rec = self.by_external_id(rtype, external_id)
            if rec is not None:
                return rtype, rec
        return None

    def all(self, record_type: str) -> Iterator[Record]:
        return iter(self.records[record_type].values())

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def today(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")

    # -- writes ------------------------------------------------------------------------------

    def insert(self, record_type: str, record: Record) -> str:
        family = SPECS[record_type].family
        key = family if family != "list" else record_type
        self._counters[key] = self._counters.get(key, 0) + 1
        rid = str(self._counters[key])
        stamp = self.now_iso()
        record = {"id": rid, **record, "createdDate": stamp, "lastModifiedDate": stamp}
        record["id"] = rid
        self.records[record_type][rid] = record
        if record.get("externalId"):
            self._external[(_namespace(record_type), record["externalId"])] = (record_type, rid)
        return rid

    def save(self, record_type: str, record: Record) -> None:
        """Store an updated ``record`` (same id), re-indexing its external id."""
        rid = record["id"]
        old = self.records[record_type].get(rid, {})
        if old.get("externalId") and old.get("externalId") != record.get("externalId"):
            self._external.pop((_namespace(record_type), old["externalId"]), None)
        record["lastModifiedDate"] = self.now_iso()
        self.records[record_type][rid] = record
        if record.get("externalId"):
            self._external[(_namespace(record_type), record["externalId"])] = (record_type, rid)

    def delete(self, record_type: str, rid: str) -> None:
        old = self.records[record_type].pop(rid, None)
        if old and old.get("externalId"):
            self._external.pop((_namespace(record_type), old["externalId"]), None)

    def external_id_taken(self, record_type: str, external_id: str, rid: str | None) -> bool:
        found = self._external.get((_namespace(record_type), external_id))
        return found is not None and found[1] != rid

    def next_tran_id(self, record_type: str) -> str:
        key = f"tranid:{record_type}"
        self._counters[key] = self._counters.get(key, 1000) + 1
        return f"{_TRAN_PREFIX.get(record_type, '')}{self._counters[key]}"
