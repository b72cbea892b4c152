"""Writes: one :class:`Transaction` stages creates, updates, deletes and upserts, then commits.

A transaction reads through its own staged records, so a collection call sees the records
it created earlier in the same call; savepoints let ``allOrNone=false`` drop a failed item.
A field that cannot be updated refuses any value on update, except a master-detail field
written with the master the record already has (a change of master is refused, as
Salesforce does unless the relationship allows reparenting).
Object-specific behaviour (stages, pricing, roll-ups...) runs through :mod:`.hooks`. At
commit the staged records are applied to the :class:`~.state.OrgState` and the resulting
changes are returned for Change Data Capture.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.errors import SalesforceError, bad_request, not_found
from revbridge_sandboxes.salesforce.schema import Field, SObjectType
from revbridge_sandboxes.salesforce.state import OrgState, Record
from revbridge_sandboxes.salesforce.values import coerce, now

ChangeType = Literal["CREATE", "UPDATE", "DELETE", "UNDELETE"]
Hook = Callable[["Transaction", SObjectType, Record | None, Record, set[str]], None]
DeleteHook = Callable[["Transaction", Record], None]
Deferred = Callable[["Transaction", str], None]


@dataclass(frozen=True)
class OrgConfig:
    currencies: tuple[str, ...]
    corporate_currency: str
    user_id: str


@dataclass
class Change:
    kind: ChangeType
    sobject: SObjectType
    before: Record | None
    after: Record | None


@dataclass
class Savepoint:
    staged: dict[str, Record | None]
    pending: dict[str, set[str]]
    primary: int


@dataclass
class Hooks:
    """Object behaviour: before-write hooks, delete hooks and deferred (commit-time) work."""

    write: dict[str, Hook] = field(default_factory=dict)
    delete: dict[str, DeleteHook] = field(default_factory=dict)
    deferred: dict[str, Deferred] = field(default_factory=dict)


class Transaction:
    """Staged writes against one org; nothing is visible to others until :meth:`commit`."""

    def __init__(self, state: OrgState, config: OrgConfig, hooks: Hooks) -> None:
        self.state = state
        self.config = config
        self.hooks = hooks
        self.key = str(uuid.uuid4())
        self.now: datetime = now()
        self.staged: dict[str, Record | None] = {}
        self.pending: dict[str, set[str]] = {}
        #: Records the caller wrote (their events come before side effects').
        self.primary: list[str] = []

    # -- reads ------------------------------------------------------------------------

    def get(self, record_id: str) -> Record | None:
        if record_id in self.staged:
            return self.staged[record_id]
        return self.state.records.get(record_id)

    def children(self, parent_id: str, type_name: str, field_name: str) -> list[Record]:
        found: dict[str, Record] = {}
        for cid in self.state.children_of(parent_id):
            rec = self.get(cid)
            if rec is not None and rec["_type"] == type_name and rec.get(field_name) == parent_id:
                found[cid] = rec
        for cid, rec in self.staged.items():
            if rec is not None and rec["_type"] == type_name and rec.get(field_name) == parent_id:
                found[cid] = rec
        return sorted(found.values(), key=lambda r: r["Id"])

    def find_external(self, sobject: SObjectType, field_name: str, value: str) -> list[str]:
        if field_name == "Id":
            rid = ids.to18(value)
            return [rid] if rid and self.get(rid) is not None else []
        wanted = value.lower()
        out = {
            i
            for i in self.state.find_external(sobject.name, field_name, value)
            if i not in self.staged
        }
        for rid, rec in self.staged.items():
            got = rec.get(field_name) if rec is not None else None
            if (
                rec is not None
                and rec["_type"] == sobject.name
                and str(got).lower() == wanted
                and got is not None
            ):
                out.add(rid)
        return sorted(out)

    # -- savepoints -----------------------------------------------------------------

    def savepoint(self) -> Savepoint:
        return Savepoint(
            dict(self.staged), {k: set(v) for k, v in self.pending.items()}, len(self.primary)
        )

    def rollback(self, point: Savepoint) -> None:
        self.staged = dict(point.staged)
        self.pending = {k: set(v) for k, v in point.pending.items()}
        del self.primary[point.primary :]

    def defer(self, kind: str, record_id: str) -> None:
        self.pending.setdefault(kind, set()).add(record_id)

    def stage(self, record: Record) -> None:
        self.staged[record["Id"]] = record

    # -- operations -----------------------------------------------------------------

    def create(self, sobject: SObjectType, body: dict[str, Any]) -> str:
        if not sobject.createable:
            raise _not_for(sobject, "inserted")
        record: Record = {"_type": sobject.name}
        for f in sobject.fields.values():
            if f.type != "address":
                record[f.name] = f.default if f.type != "boolean" else bool(f.default)
        written = self._apply(sobject, record, body, creating=True)
        rid = self.state.new_id(sobject)
        record.update(
            Id=rid, IsDeleted=False, CreatedDate=self.now, CreatedById=self.config.user_id
        )
        self._touch(sobject, record)
        if "OwnerId" in sobject.fields and record.get("OwnerId") is None:
            record["OwnerId"] = self.config.user_id
        if "CurrencyIsoCode" in sobject.fields and record.get("CurrencyIsoCode") is None:
            record["CurrencyIsoCode"] = self.config.corporate_currency
        self._finish_write(sobject, None, record, written)
        return rid

    def update(self, sobject: SObjectType, record_id: str, body: dict[str, Any]) -> None:
        old = self.require(sobject, record_id)
        if not sobject.updateable:
            raise _not_for(sobject, "updated")
        body = {k: v for k, v in body.items() if not (k.lower() == "id" and v == record_id)}
        record = dict(old)
        written = self._apply(sobject, record, body, creating=False)
        self._touch(sobject, record)
        self._finish_write(sobject, old, record, written)

    def upsert(
        self,
        sobject: SObjectType,
        ext_field: Field,
        value: str,
        body: dict[str, Any],
        update_only: bool,
    ) -> tuple[str, bool]:
        """Create or update by external id: ``(id, created)``; raises on ambiguity."""
        in_body = [k for k in body if k.lower() in (ext_field.name.lower(), "id")]
        if in_body:
            raise bad_request(
                "INVALID_FIELD",
                f"The field {in_body[0]} can't be specified in the request body of an upsert by "
                f"{ext_field.name}: the external ID value is taken from the URL",
                [in_body[0]],
            )
        matches = self.find_external(sobject, ext_field.name, value)
        if len(matches) > 1:
            raise AmbiguousExternalId(sobject, ext_field, value, matches)
        if matches:
            self.update(sobject, matches[0], body)
            return matches[0], False
        if update_only or ext_field.name == "Id":
            raise not_found()
        return self.create(sobject, {**body, ext_field.name: value}), True

    def delete(self, record_id: str) -> None:
        record = self.get(record_id)
        if record is None:
            if record_id in self.state.deleted:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
            raise not_found()
        sobject = self.state.types[record["_type"]]
        if not sobject.deletable:
            raise _not_for(sobject, "deleted")
        self.primary.append(record_id)
        if (hook := self.hooks.delete.get(sobject.name)) is not None:
            hook(self, record)
        for rel in sobject.children.values():
            for child in self.children(record_id, rel.child, rel.field):
                if rel.cascade_delete:
                    self.delete(child["Id"])
                else:
                    self.stage({**child, rel.field: None})
        self.staged[record_id] = None

    def undelete(self, record_id: str) -> list[str]:
        """Restore a record from the bin with everything its delete took along."""
        entry = self.state.deleted.get(record_id)
        if entry is None:
            raise bad_request("UNDELETE_FAILED", "Entity is not in the recycle bin")
        restored = []
        for rid, (rec, key) in self.state.deleted.items():
            if key == entry[1]:
                self.staged[rid] = {**rec, "IsDeleted": False}
                restored.append(rid)
        return restored

    def require(self, sobject: SObjectType, record_id: str) -> Record:
        record = self.get(record_id)
        if record is None or record["_type"] != sobject.name:
            if record_id in self.state.deleted:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
            raise not_found()
        return record

    def commit(self) -> list[Change]:
        """Run deferred work, apply the staged records and return what changed."""
        for work, record_ids in list(self.pending.items()):
            for rid in sorted(record_ids):
                self.hooks.deferred[work](self, rid)
        changes: list[Change] = []
        first = {rid: i for i, rid in reversed(list(enumerate(self.primary)))}
        order = sorted(self.staged, key=lambda rid: first.get(rid, len(first)))
        with self.state.lock:
            for rid in order:
                new = self.staged[rid]
                old = self.state.records.get(rid)
                if new is None:
                    if old is not None:
                        changes.append(Change("DELETE", self.state.types[old["_type"]], old, None))
                        self.state.remove(rid, self.key, self.now)
                    continue
                kind: ChangeType = "UPDATE" if old is not None else "CREATE"
                if old is None and rid in self.state.deleted:
                    kind = "UNDELETE"
                self.state.put(new)
                changes.append(Change(kind, self.state.types[new["_type"]], old, new))
        self.staged.clear()
        return changes

    # -- field writes ---------------------------------------------------------------

    def _touch(self, sobject: SObjectType, record: Record) -> None:
        record.update(
            LastModifiedDate=self.now, LastModifiedById=self.config.user_id, SystemModstamp=self.now
        )

    def _finish_write(
        self, sobject: SObjectType, old: Record | None, record: Record, written: set[str]
    ) -> None:
        self._check_required(sobject, record, creating=old is None, written=written)
        self._check_references(sobject, record, written)
        if (hook := self.hooks.write.get(sobject.name)) is not None:
            hook(self, sobject, old, record, written)
        self._check_unique(sobject, record, written)
        self.stage(record)
        self.primary.append(record["Id"])

    def _apply(
        self, sobject: SObjectType, record: Record, body: dict[str, Any], creating: bool
    ) -> set[str]:
        pairs: list[tuple[Field, Any]] = []
        for key, value in body.items():
            if key == "attributes":
                continue
            f = sobject.field(key)
            if f is None and isinstance(value, dict) and key.lower() in sobject.relationships:
                f = sobject.relationships[key.lower()]
                value = self._resolve_foreign_key(f, value)
            if f is None:
                raise bad_request(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {sobject.name}"
                )
            pairs.append((f, value))
        locked = [
            f.name
            for f, value in pairs
            if not (f.createable if creating else f.updateable)
            and not (not creating and _same_master(f, record, value))
        ]
        if locked:
            raise bad_request(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                locked,
            )
        for f, value in pairs:
            record[f.name] = coerce(f, value)
        return {f.name for f, _ in pairs}

    def _resolve_foreign_key(self, f: Field, value: dict[str, Any]) -> str:
        target = self.state.types[f.reference_to[0]]
        keys = [(k, v) for k, v in value.items() if k != "attributes"]
        ext = target.field(keys[0][0]) if len(keys) == 1 else None
        if ext is None or not (ext.external_id or ext.name == "Id"):
            raise bad_request(
                "INVALID_FIELD",
                f"The value provided for foreign key reference {f.relationship_name} is not a "
                "nested SObject",
            )
        found = self.find_external(target, ext.name, str(keys[0][1]))
        if len(found) != 1:
            what = "not found" if not found else "matches multiple records"
            raise bad_request(
                "INVALID_FIELD",
                f"Foreign key external ID: {keys[0][1]} {what} for field {ext.name} in entity "
                f"{target.name}",
            )
        return found[0]

    def _check_required(
        self, sobject: SObjectType, record: Record, creating: bool, written: set[str]
    ) -> None:
        missing = [
            f.name
            for f in sobject.fields.values()
            if f.required and record.get(f.name) is None and (creating or f.name in written)
        ]
        if missing:
            raise bad_request(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _check_references(self, sobject: SObjectType, record: Record, written: set[str]) -> None:
        for name in written:
            f = sobject.fields[name]
            value = record.get(name)
            if f.type != "reference" or value is None:
                continue
            rid = ids.to18(value)
            targets = [self.state.types[t] for t in f.reference_to]
            if rid is None or all(rid[:3] != t.key_prefix for t in targets):
                raise bad_request(
                    "MALFORMED_ID", f"{f.display}: id value of incorrect type: {value}", [name]
                )
            if self.get(rid) is None:
                raise bad_request(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name]
                )
            record[name] = rid

    def _check_unique(self, sobject: SObjectType, record: Record, written: set[str]) -> None:
        for f in sobject.fields.values():
            value = record.get(f.name)
            if not f.unique or value is None:
                continue
            clash = [
                i for i in self.find_external(sobject, f.name, str(value)) if i != record["Id"]
            ]
            if clash:
                raise bad_request(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record with id: "
                    + clash[0],
                    [],
                )


def _same_master(f: Field, record: Record, value: Any) -> bool:
    """A master-detail field written with the master it already has (not a reparenting)."""
    return (
        f.master_detail
        and isinstance(value, str)
        and ids.to18(value) is not None
        and ids.to18(value) == record.get(f.name)
    )


def _not_for(sobject: SObjectType, verb: str) -> SalesforceError:
    return bad_request(
        "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {sobject.label}"
    )


class AmbiguousExternalId(SalesforceError):
    """An external-id value matching several records (HTTP 300 on single upserts)."""

    def __init__(self, sobject: SObjectType, f: Field, value: str, matches: list[str]) -> None:
        super().__init__(
            300,
            "DUPLICATE_EXTERNAL_ID",
            f"{f.name}: more than one record found for external id field: [{', '.join(matches)}]",
            [],
        )
        self.matches = matches
