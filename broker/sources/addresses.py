"""Which addresses a media source may resolve to: never loopback, private, link-local, CGNAT,
unique-local, multicast, reserved or cloud-metadata addresses (SSRF), unless its host is listed
in MEDIA_SOURCE_HOSTS."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

METADATA = (ipaddress.ip_network("169.254.169.254/32"),  # AWS, GCP, Azure, OpenStack
            ipaddress.ip_network("fd00:ec2::254/128"),  # AWS over IPv6
            ipaddress.ip_network("100.100.100.200/32"))  # Alibaba Cloud
CGNAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, not "private" to Python


def refusal(address: str) -> str | None:
    """Why a connection to `address` is refused, or None when it is a public unicast address."""
    ip: IPAddress = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    if any(ip in net for net in METADATA):
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a carrier-grade NAT address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "a unique-local address"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified \
            or not ip.is_global:
        return "a private or reserved address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_ip_literal(host: str) -> bool:
    """Whether `host` is an IP address written out (no resolution needed)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
