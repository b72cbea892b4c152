"""Which address is the client: the peer, or what trusted proxies forwarded (read from the
right, never past an address that is not a trusted proxy)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from revbridge.api.proxies import client_address

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["1.1.1.1, 198.51.100.1"], "198.51.100.1"),  # left entries are the client's
        ("10.0.0.5", ["198.51.100.1, 10.2.0.1"], "198.51.100.1"),  # two proxies
        ("10.0.0.5", ["198.51.100.1", "10.2.0.1"], "198.51.100.1"),  # repeated header
        ("10.0.0.5", ["198.51.100.1:4711"], "198.51.100.1"),
        ("::1", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.5", ["not-an-address"], "10.0.0.5"),  # garbage: the proxy itself
        ("10.0.0.5", ["198.51.100.1, unknown"], "10.0.0.5"),
        ("10.0.0.5", ["10.3.0.1"], "10.3.0.1"),  # only proxies: the farthest one
        ("10.0.0.5", [], "10.0.0.5"),
    ],
)
def test_the_client_is_the_right_most_address_no_trusted_proxy_vouches_past(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == client
