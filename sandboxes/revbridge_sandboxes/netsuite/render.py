"""Stored records as NetSuite's REST representation.

A record starts with ``links`` (``self``); reference fields become ``{"links", "id",
"refName"}``; sublists are a ``self`` link unless ``expandSubResources=true``, when they
hold their lines (``items``) with the collection counters; ``?fields=a,b`` keeps only
the named fields. Computed fields (``status``, ``orderStatus``, ``itemType``...) are
worked out here, at read time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from revbridge_sandboxes.netsuite.account import Account
from revbridge_sandboxes.netsuite.catalog import ITEM_TYPE_IDS, ITEM_TYPE_NAMES
from revbridge_sandboxes.netsuite.invoices import invoice_status
from revbridge_sandboxes.netsuite.orders import order_status, settle
from revbridge_sandboxes.netsuite.schema import (
    COUNTRY_NAMES,
    INVOICE_STATUS_NAMES,
    ITEM_TYPES,
    NAME_FIELDS,
    ORDER_STATUS_NAMES,
    PAYMENT_STATUS_NAMES,
    SPECS,
    Shape,
)
from revbridge_sandboxes.netsuite.state import Record

RECORD_PATH = "/services/rest/record/v1"


def link(href: str, rel: str = "self") -> dict[str, str]:
    return {"rel": rel, "href": href}


class Renderer:
    """Renders records of one account for clients reaching it at ``base`` (scheme://host)."""

    def __init__(self, account: Account, base: str) -> None:
        self.account = account
        self.state = account.state
        self.base = base

    def url(self, rtype: str, rid: str) -> str:
        return f"{self.base}{RECORD_PATH}/{rtype}/{rid}"

    def record(
        self, rtype: str, rec: Record, expand: bool = False, fields: Iterable[str] | None = None
    ) -> dict[str, Any]:
        url = self.url(rtype, rec["id"])
        body = self._fields(SPECS[rtype].shape, rec, url, expand)
        body.update(self._computed(rtype, rec))
        out: dict[str, Any] = {"links": [link(url)], **dict(sorted(body.items()))}
        if fields is not None:
            wanted = {f.lower() for f in fields} | {"links", "id"}
            out = {k: v for k, v in out.items() if k.lower() in wanted}
        return out

    def line(self, shape: Shape, line: Record, url: str) -> dict[str, Any]:
        body = self._fields(shape, line, url, expand=True)
        return {"links": [link(url)] if url else [], **dict(sorted(body.items()))}

    def sublist(self, shape: Shape, lines: list[Record], url: str, key: str) -> dict[str, Any]:
        items = [self.line(shape, ln, f"{url}/{ln.get(key)}") for ln in lines]
        return {
            "links": [link(url)],
            "count": len(items),
            "hasMore": False,
            "items": items,
            "offset": 0,
            "totalResults": len(items),
        }

    def _fields(self, shape: Shape, rec: Record, url: str, expand: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in rec.items():
            if name.startswith("_") or value is None:
                continue
            if name in shape.sublists:
                sub_url = f"{url}/{name}"
                key = "line" if name in ("item", "apply") else "id"
                out[name] = (
                    self.sublist(shape.sublists[name], value, sub_url, key)
                    if expand
                    else {"links": [link(sub_url)]}
                )
            elif name in shape.subrecords:
                sub_url = f"{url}/{name}"
                out[name] = (
                    self.line(shape.subrecords[name], value, sub_url)
                    if expand
                    else {"links": [link(sub_url)]}
                )
            elif name in shape.fields:
                out[name] = self._value(shape, name, value)
            else:
                out[name] = value
        return out

    def _value(self, shape: Shape, name: str, value: Any) -> Any:
        spec = shape.fields[name]
        if spec.kind == "ref":
            return self.reference(spec.targets, value)
        if spec.kind == "multiref":
            items = [self.reference(spec.targets, v) for v in value.get("items", [])]
            return {
                "links": [],
                "items": items,
                "totalResults": len(items),
                "count": len(items),
                "hasMore": False,
                "offset": 0,
            }
        if spec.kind == "enum":
            return {
                "id": value["id"],
                "refName": (spec.choices or {}).get(value["id"], value["id"]),
            }
        return value

    def reference(self, targets: tuple[str, ...], value: dict[str, str]) -> dict[str, Any]:
        rid = value.get("id")
        if rid is None:
            return {"links": [], "externalId": value.get("externalId")}
        found = self.state.find(targets, rid) if targets else None
        if found is None:
            return {"links": [], "id": rid}
        rtype, target = found
        return {
            "links": [link(self.url(rtype, rid))],
            "id": rid,
            "refName": self.name(rtype, target),
        }

    def name(self, rtype: str, rec: Record) -> str:
        if rtype in NAME_FIELDS:
            if rtype == "subsidiary":
                return self._full_name(rec)
            return str(rec.get(NAME_FIELDS[rtype]) or "")
        if rtype == "customer":
            entity, company = rec.get("entityId") or "", rec.get("companyName") or ""
            return entity if not company or entity == company else f"{entity} {company}"
        if rtype == "account":
            return f"{rec.get('acctNumber', '')} {rec.get('acctName', '')}".strip()
        return f"{SPECS[rtype].label} #{rec.get('tranId', rec['id'])}"

    def _full_name(self, rec: Record) -> str:
        names = [rec.get("name") or ""]
        parent = rec.get("parent")
        while parent:
            node = self.state.get("subsidiary", parent["id"])
            if node is None or len(names) > 20:
                break
            names.append(node.get("name") or "")
            parent = node.get("parent")
        return " : ".join(reversed(names))

    def _computed(self, rtype: str, rec: Record) -> dict[str, Any]:
        if rtype == "salesOrder":
            settle(self.account, rec)
            letter = order_status(self.account, rec)
            approved = "A" if rec.get("_approval") != "approved" else "B"
            return {
                "status": {"id": letter, "refName": ORDER_STATUS_NAMES[letter]},
                "orderStatus": {"id": approved, "refName": ORDER_STATUS_NAMES[approved]},
            }
        if rtype == "invoice":
            letter = invoice_status(rec)
            return {"status": {"id": letter, "refName": INVOICE_STATUS_NAMES[letter]}}
        if rtype == "customerPayment":
            return {"status": {"id": "B", "refName": PAYMENT_STATUS_NAMES["B"]}}
        if rtype in ITEM_TYPES:
            kind = ITEM_TYPE_IDS[rtype]
            return {"itemType": {"id": kind, "refName": ITEM_TYPE_NAMES[kind]}}
        if rtype == "subsidiary":
            country = (rec.get("country") or {}).get("id", "")
            return {
                "fullName": self._full_name(rec),
                "country": {"id": country, "refName": COUNTRY_NAMES.get(country, country)},
            }
        if rtype in ("department", "classification", "location"):
            return {"fullName": rec.get("name")}
        return {}
