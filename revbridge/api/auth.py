"""Who is calling and what they may do: API keys, roles and scopes.

A key is sent as ``Authorization: Bearer rbk_<id>_<secret>``; the gate authenticates it
once per request and leaves a :class:`Principal` on the request. Routes declare the scope
they need with one of the ``Annotated`` dependencies below: no key → 401, a key whose
role lacks the scope → 403. Roles map to scopes in :data:`ROLE_SCOPES`; exception cases
add an object-level check (:func:`may_act_on`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from revbridge.cases.model import Owner

ADMIN = "admin"  # everything, the audit log included
AUDITOR = "auditor"  # reads, and the audit log; acts on nothing
#: Who a key or a console user is: a case owner, or one of the two roles that own no cases.
ROLES: tuple[str, ...] = (*Owner, ADMIN, AUDITOR)

READ = "read"  # deals, flows, customers, exceptions, the event stream
BILLING_READ = "billing:read"  # invoices and payments
EVENTS_WRITE = "events:write"  # ingest canonical events
CASES_ACT = "exceptions:act"  # act on and assign the role's own exception cases
CASES_ANY = "exceptions:any"  # ... on every owner's cases
REPLAYS = "replays:write"  # replay deals
AUDIT_READ = "audit:read"  # read and verify the audit log
ORDERS_WRITE = "orders:write"  # submit order packages directly
USAGE_WRITE = "usage:write"  # report metered usage for billing

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Owner.SALES_OPS: frozenset({READ, CASES_ACT, ORDERS_WRITE}),
    Owner.FINANCE_OPS: frozenset({READ, BILLING_READ, CASES_ACT}),
    Owner.INTEGRATION_SUPPORT: frozenset(
        {READ, BILLING_READ, EVENTS_WRITE, CASES_ACT, CASES_ANY, REPLAYS, ORDERS_WRITE, USAGE_WRITE}
    ),
    ADMIN: frozenset(
        {
            READ,
            BILLING_READ,
            EVENTS_WRITE,
            CASES_ACT,
            CASES_ANY,
            REPLAYS,
            AUDIT_READ,
            ORDERS_WRITE,
            USAGE_WRITE,
        }
    ),
    AUDITOR: frozenset({READ, BILLING_READ, AUDIT_READ}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated API key."""

    key_id: str
    name: str
    role: str

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES.get(self.role, frozenset())

    @property
    def actor(self) -> str:
        """How the audit log names this caller: key name and role."""
        return f"api:{self.name} ({self.role})"


def may_act_on(principal: Principal, owner: str) -> bool:
    """Object-level rule: a key acts on its own role's cases, support and admin on all."""
    if CASES_ANY in principal.scopes:
        return True
    return CASES_ACT in principal.scopes and owner == principal.role


_bearer = HTTPBearer(auto_error=False, description="rbk_<id>_<secret>")


def require(scope: str) -> object:
    """A dependency: the principal when it holds ``scope``; 401 without a key, else 403."""

    def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):
            raise HTTPException(
                401, "a valid API key is required", headers={"WWW-Authenticate": "Bearer"}
            )
        if scope not in principal.scopes:
            raise HTTPException(403, f"role {principal.role} lacks the {scope} scope")
        return principal

    return Depends(dependency)


Reader = Annotated[Principal, require(READ)]
BillingReader = Annotated[Principal, require(BILLING_READ)]
EventWriter = Annotated[Principal, require(EVENTS_WRITE)]
CaseActor = Annotated[Principal, require(CASES_ACT)]
Replayer = Annotated[Principal, require(REPLAYS)]
Auditor = Annotated[Principal, require(AUDIT_READ)]
OrderSubmitter = Annotated[Principal, require(ORDERS_WRITE)]
UsageWriter = Annotated[Principal, require(USAGE_WRITE)]
