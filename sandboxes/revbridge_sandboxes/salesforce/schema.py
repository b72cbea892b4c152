"""The metadata model: sObject types, their fields and relationships.

:class:`Field` mirrors what ``describe`` reports about a field (type, length, whether it
can be created or updated, external id, uniqueness, reference targets, picklist values);
:class:`SObjectType` groups the fields of one object with its key prefix and child
relationships. The declarations themselves live in :mod:`.objects`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "boolean",
    "currency",
    "double",
    "percent",
    "int",
    "date",
    "datetime",
    "reference",
    "address",
]

TEXT_TYPES = frozenset({"id", "string", "textarea", "email", "phone", "url", "picklist"})
NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})

#: System fields every object has, in describe order; none of them can be written.
SYSTEM_FIELDS = ("Id", "IsDeleted")
AUDIT_FIELDS = (
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True)
class Field:
    """One field as ``describe`` sees it."""

    name: str
    type: FieldType
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    #: Must be given on create (not nillable and no default).
    required: bool = False
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    #: Derived by the platform (formula or roll-up); left out of change events.
    calculated: bool = False
    default: Any = None
    #: Points at the master of a master-detail relationship: deleting the master deletes the
    #: record, and (unless reparentable) the value can be written again but not changed.
    master_detail: bool = False

    @property
    def display(self) -> str:
        """The label used in error messages ("Account ID" for ``AccountId``)."""
        if self.label:
            return self.label
        if self.type == "reference" and self.name.endswith("Id"):
            return self.name[:-2] + " ID"
        return self.name

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def writable(self) -> bool:
        return self.createable or self.updateable

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.display,
            "type": self.type,
            "length": self.length,
            "precision": self.precision,
            "scale": self.scale,
            "nillable": not self.required and self.type != "boolean" and self.name != "Id",
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.default is not None or self.type == "boolean",
            "calculated": self.calculated,
            "custom": self.custom,
            "externalId": self.external_id,
            "idLookup": self.external_id or self.name == "Id",
            "unique": self.unique,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": 0 if self.master_detail else None,
            "cascadeDelete": self.master_detail,
            "nameField": self.name == "Name",
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "value": v, "validFor": None}
                for v in self.picklist
            ],
        }


@dataclass(frozen=True)
class ChildRelationship:
    """A parent-to-children relationship usable in a SOQL subquery."""

    name: str
    child: str
    field: str
    cascade_delete: bool = False


@dataclass
class SObjectType:
    """One object: its fields by name, key prefix, relationships and abilities."""

    name: str
    label: str
    key_prefix: str
    fields: dict[str, Field]
    #: Defined by the org's admin (``__c``) rather than by Salesforce.
    custom: bool = False
    label_plural: str = ""
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    #: Address compounds: compound name → its component fields by sub-name.
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)
    lower: dict[str, Field] = field(default_factory=dict)
    relationships: dict[str, Field] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lower = {name.lower(): f for name, f in self.fields.items()}
        self.relationships = {
            f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name
        }

    def field(self, name: str) -> Field | None:
        """The field called ``name`` in any letter case."""
        return self.lower.get(name.lower())

    def external_ids(self) -> list[Field]:
        return [f for f in self.fields.values() if f.external_id]

    def child(self, name: str) -> ChildRelationship | None:
        return next((c for c in self.children.values() if c.name.lower() == name.lower()), None)

    def describe(self, version: str, full: bool) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural or self.label + "s",
            "keyPrefix": self.key_prefix,
            "custom": self.custom,
            "createable": self.createable,
            "updateable": self.updateable,
            "deletable": self.deletable,
            "queryable": True,
            "retrieveable": True,
            "searchable": True,
            "undeletable": self.deletable,
            "urls": {
                "sobject": base,
                "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}",
            },
        }
        if full:
            out["fields"] = [f.describe() for f in self.fields.values()]
            out["childRelationships"] = [
                {
                    "childSObject": c.child,
                    "field": c.field,
                    "relationshipName": c.name,
                    "cascadeDelete": c.cascade_delete,
                }
                for c in self.children.values()
            ]
            out["recordTypeInfos"] = []
        return out


# Builders used by the declarations in objects.py (and by callers adding custom fields).

RO: dict[str, Any] = {"createable": False, "updateable": False}
CREATE_ONLY: dict[str, Any] = {"updateable": False}
RO_CALC: dict[str, Any] = {**RO, "calculated": True}


def typed(name: str, type_: FieldType, length: int = 0, **kw: Any) -> Field:
    """A field of any type."""
    return Field(name, type_, length=length, **kw)


def text(name: str, length: int = 255, **kw: Any) -> Field:
    return Field(name, "string", length=length, **kw)


def picklist(name: str, values: Sequence[str], restricted: bool = False, **kw: Any) -> Field:
    return Field(name, "picklist", length=255, picklist=tuple(values), restricted=restricted, **kw)


def reference(name: str, target: str, relationship: str, **kw: Any) -> Field:
    return Field(
        name, "reference", length=18, reference_to=(target,), relationship_name=relationship, **kw
    )


def master_detail(
    name: str, target: str, relationship: str, reparentable: bool = False, **kw: Any
) -> Field:
    """The detail side's field of a master-detail relationship: required, cascade-deleted."""
    return reference(
        name, target, relationship, required=True, master_detail=True, updateable=reparentable, **kw
    )


def money(name: str, **kw: Any) -> Field:
    return Field(name, "currency", precision=18, scale=2, **kw)


def checkbox(name: str, default: bool = False, **kw: Any) -> Field:
    return Field(name, "boolean", default=default, **kw)
