"""The client's address: REMOTE_ADDR, or the forwarded-for header when, and only when, a trusted proxy sent it.

Behind a load balancer every request comes from the balancer; the client is named in a header that any client
can also send. So the header is read only when the connection comes from an address in `TRUSTED_PROXIES`, and
it is read from the right: each proxy appends the address it received the request from, so the first address,
walking leftwards, that is not a trusted proxy is the client. What a client wrote further left is never
believed. A malformed entry ends the walk at the last proxy that vouched for it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def parse_proxies(values: list[str]) -> tuple[str, ...]:
    """Check the TRUSTED_PROXIES setting: addresses or networks (`10.0.0.0/8`, `::1`); ValueError names a bad one."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {value!r} is not an IP address or network") from None
    return tuple(values)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def forwarded_client(peer: str | None, forwarded_for: str | None, proxies: tuple[str, ...]) -> str | None:
    """The client's address from the connection's peer and the X-Forwarded-For value, trusting `proxies` only."""
    if not peer:
        return None
    trusted = _networks(proxies)
    current = _address(peer)
    if current is None:
        return None
    if not forwarded_for or not any(current in network for network in trusted):
        return str(current)
    for entry in reversed(forwarded_for.split(",")):
        if not any(current in network for network in trusted):
            break  # an untrusted hop: the client, as far as anyone we trust can tell
        hop = _address(entry)
        if hop is None:
            break
        current = hop
    return str(current)


def client_address(request) -> str | None:
    """The address of the client of `request` (None without a request)."""
    if request is None:
        return None
    meta = request.META
    return forwarded_client(meta.get("REMOTE_ADDR"), meta.get(settings.CLIENT_ADDRESS_HEADER),
                            settings.TRUSTED_PROXIES)
