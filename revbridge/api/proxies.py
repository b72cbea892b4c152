"""Who is asking: the client behind the reverse proxies revbridge is told to trust.

A request's client is the socket's peer, unless that peer is one of the trusted proxies
(:attr:`~revbridge.config.settings.Settings.trusted_proxies`, ``REVBRIDGE_TRUSTED_PROXIES``,
empty by default). From a trusted proxy, ``X-Forwarded-For`` is read from the right: each
trusted hop vouches for the address before it, and the first address that is not a
trusted proxy is the client (``X-Forwarded-Proto`` gives the scheme). Entries further
left were written by the client itself and are never believed. From any other peer both
headers are ignored, so a client cannot pick its own address, and with it its own
sign-in throttle, by sending them.

The server must hand revbridge the real peer: ``revbridge serve`` runs uvicorn with
``proxy_headers=False``, since uvicorn's own handling trusts ``127.0.0.1`` by default
and would rewrite the peer before revbridge sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def parse_hop(hop: str) -> Address | None:
    """The address in one ``X-Forwarded-For`` entry (``1.2.3.4``, ``1.2.3.4:80``,
    ``[::1]:80``, ``::1``), or None when it is not one."""
    text = hop.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def is_trusted(address: Address | None, proxies: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """The client of a request that came from ``peer`` with these ``X-Forwarded-For``
    values: ``peer`` itself unless it is a trusted proxy; otherwise the right-most
    forwarded address that is not one (an entry that is not an address stops the walk
    at the last trusted hop)."""
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    current = peer
    for hop in reversed(hops):
        if not is_trusted(parse_hop(current), proxies):
            break
        address = parse_hop(hop)
        if address is None:
            break
        current = str(address)
    return current


class ForwardedFor:
    """ASGI middleware: sets ``scope["client"]`` and ``scope["scheme"]`` from the
    forwarded headers of trusted proxies only."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network] = ()) -> None:
        self.app, self.proxies = app, tuple(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if (
            scope["type"] in ("http", "websocket")
            and peer is not None
            and is_trusted(parse_hop(peer[0]), self.proxies)
        ):
            headers = Headers(scope=scope)
            client = client_address(peer[0], headers.getlist("x-forwarded-for"), self.proxies)
            if client != peer[0]:
                scope["client"] = (client, 0)
            proto = headers.get("x-forwarded-proto", "").rpartition(",")[2].strip().lower()
            if scope["type"] == "http" and proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)
