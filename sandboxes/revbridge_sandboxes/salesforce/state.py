"""The org's records in memory, with the indexes that keep reads O(1).

Records are plain dicts of field name → Python value (``Decimal``, ``date``, ``datetime``,
``str``, ``bool``, ``int`` or None). Live records sit in :attr:`OrgState.records`; deleted
ones move to the recycle bin (``queryAll`` still sees them). External-id values and
references to each parent are indexed. Writes go through :mod:`.dml`, which stages them
in a transaction and applies them here under :attr:`OrgState.lock`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.schema import SObjectType
from revbridge_sandboxes.salesforce.values import coerce, format_datetime

Record = dict[str, Any]


class OrgState:
    """All records of one org, by id and by type, plus the recycle bin."""

    def __init__(self, types: dict[str, SObjectType]) -> None:
        self.lock = threading.RLock()
        self.types = types
        self.type_by_prefix = {t.key_prefix: t for t in types.values()}
        self.lower_types = {name.lower(): t for name, t in types.items()}
        self.clear()

    def clear(self) -> None:
        self.records: dict[str, Record] = {}
        self.by_type: dict[str, dict[str, Record]] = {name: {} for name in self.types}
        #: id → (record, id of the delete that removed it, so cascades undelete together).
        self.deleted: dict[str, tuple[Record, str]] = {}
        self.ext_index: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(dict)
        self.refs: dict[str, set[str]] = defaultdict(set)
        self.counters: dict[str, int] = defaultdict(int)
        self.autonumbers: dict[str, int] = defaultdict(lambda: 100)
        self.standard_pricebook_id = ""

    # -- lookups -----------------------------------------------------------------

    def type_named(self, name: str) -> SObjectType | None:
        return self.lower_types.get(name.lower())

    def type_of(self, record_id: str) -> SObjectType | None:
        return self.type_by_prefix.get(record_id[:3])

    def get(self, record_id: str) -> Record | None:
        return self.records.get(record_id)

    def find_external(self, type_name: str, field: str, value: str) -> list[str]:
        """Live ids of ``type_name`` whose external-id ``field`` equals ``value``."""
        return sorted(self.ext_index[(type_name, field)].get(value.lower(), ()))

    def children_of(self, parent_id: str) -> set[str]:
        return self.refs.get(parent_id, set())

    # -- writes (called by dml under the lock) --------------------------------------

    def new_id(self, sobject: SObjectType) -> str:
        self.counters[sobject.key_prefix] += 1
        return ids.make_id(sobject.key_prefix, self.counters[sobject.key_prefix])

    def next_number(self, type_name: str) -> str:
        self.autonumbers[type_name] += 1
        return f"{self.autonumbers[type_name]:08d}"

    def put(self, record: Record) -> None:
        """Insert or replace a live record (restoring it from the bin if it was there)."""
        rid = record["Id"]
        old = self.records.get(rid)
        if old is not None:
            self._unindex(old)
        self.deleted.pop(rid, None)
        self.records[rid] = record
        self.by_type[record["_type"]][rid] = record
        self._index(record)

    def remove(self, record_id: str, delete_key: str, when: datetime | None = None) -> None:
        """Move a live record to the bin (its ``SystemModstamp`` becomes the delete time)."""
        record = self.records.pop(record_id)
        self.by_type[record["_type"]].pop(record_id, None)
        self._unindex(record)
        binned = {**record, "IsDeleted": True, "SystemModstamp": when or record["SystemModstamp"]}
        self.deleted[record_id] = (binned, delete_key)

    def _index(self, record: Record) -> None:
        sobject = self.types[record["_type"]]
        for f in sobject.fields.values():
            value = record.get(f.name)
            if value is None:
                continue
            if f.external_id:
                self.ext_index[(sobject.name, f.name)].setdefault(str(value).lower(), set()).add(
                    record["Id"]
                )
            if f.type == "reference":
                self.refs[value].add(record["Id"])

    def _unindex(self, record: Record) -> None:
        sobject = self.types[record["_type"]]
        for f in sobject.fields.values():
            value = record.get(f.name)
            if value is None:
                continue
            if f.external_id:
                bucket = self.ext_index[(sobject.name, f.name)].get(str(value).lower())
                if bucket is not None:
                    bucket.discard(record["Id"])
                    if not bucket:
                        del self.ext_index[(sobject.name, f.name)][str(value).lower()]
            if f.type == "reference" and value in self.refs:
                self.refs[value].discard(record["Id"])

    # -- persistence -----------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        with self.lock:
            live: dict[str, list[dict[str, Any]]] = {name: [] for name in self.types}
            for record in self.records.values():
                live[record["_type"]].append(self._plain(record))
            binned = [
                {"record": self._plain(record), "delete_key": key}
                for record, key in self.deleted.values()
            ]
            return {
                "records": live,
                "deleted": binned,
                "counters": dict(self.counters),
                "autonumbers": dict(self.autonumbers),
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.clear()
            for rows in data.get("records", {}).values():
                for row in rows:
                    self.put(self._typed(row))
            for entry in data.get("deleted", []):
                record = self._typed(entry["record"])
                self.put(record)
                self.remove(record["Id"], entry["delete_key"])
            self.counters.update(data.get("counters", {}))
            self.autonumbers.update(data.get("autonumbers", {}))

    def _plain(self, record: Record) -> dict[str, Any]:
        return {name: _plain_value(value) for name, value in record.items()}

    def _typed(self, row: dict[str, Any]) -> Record:
        sobject = self.types[row["_type"]]
        record: Record = {"_type": sobject.name}
        for f in sobject.fields.values():
            if f.type == "address":
                continue
            value = row.get(f.name)
            if value is None or f.type in ("id", "reference", "picklist"):
                record[f.name] = value
            else:
                record[f.name] = coerce(f, value)
        return record


def _plain_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
