"""Provisioning connector: the entitlements port as signed webhooks.

:class:`ProvisioningEntitlements` POSTs each activation to the policy's endpoint it
names, signed as Standard Webhooks do (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), through one :class:`~revbridge.connectors.http.HttpCaller` per
endpoint, which retries with backoff while the endpoint is down. :func:`build` makes it
from the policy's ``entitlements`` section. Modules: ``signing`` (the signature and the
transport that signs every attempt), ``mapping`` (the activation as JSON), ``classify``
(answers as errors) and ``adapter`` (the port and the factory).
"""

from __future__ import annotations

from revbridge.connectors.provisioning.adapter import ProvisioningEntitlements, build

__all__ = ["ProvisioningEntitlements", "build"]
