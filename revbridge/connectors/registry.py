"""Which adapter serves each system of the policy; used only by ``revbridge.app``.

One map per role, product kind → factory, each factory typed with the port it returns:
adding a connector is one line here (and its ``build``, see
``docs/writing-a-connector.md``). :func:`adapter_for_role` gives the port of a role,
typed as that port.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypeVar, overload

from revbridge.config.policy import Policy
from revbridge.config.systems import (
    AvalaraSystem,
    NetSuiteSystem,
    SalesforceSystem,
    StripeSystem,
    SystemBase,
)
from revbridge.connectors import avalara, netsuite, salesforce, stripe
from revbridge.errors import ConfigError
from revbridge.ports import BillingEventsPort, BillingPort, CrmPort, ErpPort, TaxPort

P = TypeVar("P", covariant=True)
S = TypeVar("S", bound=SystemBase)

#: Builds the adapter of one system entry: (system name, entry, environment).
Factory = Callable[[str, SystemBase, Mapping[str, str]], P]
#: Whatever a port of some role is.
Adapter = CrmPort | ErpPort | TaxPort | BillingPort
PortRole = Literal["crm", "erp", "tax", "billing"]


def factory(model: type[S], build: Callable[[str, S, Mapping[str, str]], P]) -> Factory[P]:
    """``build`` for entries of ``model`` (the entry's kind decides the model)."""

    def make(name: str, system: SystemBase, env: Mapping[str, str]) -> P:
        if not isinstance(system, model):
            raise ConfigError(f"system {name}: kind {system.kind!r} is not {model.__name__}")
        return build(name, system, env)

    return make


CRM: Mapping[str, Factory[CrmPort]] = {"salesforce": factory(SalesforceSystem, salesforce.build)}
ERP: Mapping[str, Factory[ErpPort]] = {"netsuite": factory(NetSuiteSystem, netsuite.build)}
TAX: Mapping[str, Factory[TaxPort]] = {"avalara": factory(AvalaraSystem, avalara.build)}
BILLING: Mapping[str, Factory[BillingPort]] = {"stripe": factory(StripeSystem, stripe.build)}

FACTORIES: Mapping[str, Mapping[str, Factory[Adapter]]] = {
    "crm": CRM,
    "erp": ERP,
    "tax": TAX,
    "billing": BILLING,
}
"""Role → product kind → factory."""

#: Product kind → the reader of its pushed billing events (None: no endpoint secret set).
BILLING_EVENTS: Mapping[str, Factory[BillingEventsPort | None]] = {
    "stripe": factory(StripeSystem, stripe.build_events)
}


def build_adapter(policy: Policy, name: str, env: Mapping[str, str]) -> Adapter:
    """The adapter for system ``name`` of the policy, its credentials read from ``env``."""
    return _build(policy, name, env, FACTORIES.get(policy.systems[name].role, {}))


@overload
def adapter_for_role(policy: Policy, role: Literal["crm"], env: Mapping[str, str]) -> CrmPort: ...
@overload
def adapter_for_role(policy: Policy, role: Literal["erp"], env: Mapping[str, str]) -> ErpPort: ...
@overload
def adapter_for_role(policy: Policy, role: Literal["tax"], env: Mapping[str, str]) -> TaxPort: ...
@overload
def adapter_for_role(
    policy: Policy, role: Literal["billing"], env: Mapping[str, str]
) -> BillingPort: ...
def adapter_for_role(policy: Policy, role: PortRole, env: Mapping[str, str]) -> Adapter:
    """The adapter of the policy's first system playing ``role``."""
    names = policy.systems_with_role(role)
    if not names:
        raise ConfigError(f"the policy names no {role} system")
    return _build(policy, names[0], env, FACTORIES[role])


def billing_events(policy: Policy, env: Mapping[str, str]) -> BillingEventsPort | None:
    """The pushed events of the policy's first billing system that can verify them."""
    for name, system in policy.systems.items():
        make = BILLING_EVENTS.get(system.kind)
        events = make(name, system, env) if make is not None else None
        if events is not None:
            return events
    return None


def _build(
    policy: Policy, name: str, env: Mapping[str, str], factories: Mapping[str, Factory[P]]
) -> P:
    """The system is handed over with its effective retry, rate-limit and timeout settings
    (the policy's ``defaults`` overlaid with the system's own), so adapters need not merge."""
    system = policy.systems[name].model_copy(
        update={
            "retry": policy.retry_for(name),
            "rate_limit": policy.rate_limit_for(name),
            "timeout_s": policy.timeout_for(name),
        }
    )
    make = factories.get(system.kind)
    if make is None:
        raise ConfigError(f"system {name}: no connector for kind {system.kind!r}")
    return make(name, system, env)
