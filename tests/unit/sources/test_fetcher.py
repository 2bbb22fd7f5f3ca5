"""The source fetcher alone: which addresses it refuses, and that it connects to the address it
checked (a resolver that changes its answer between check and connect cannot redirect it)."""

from __future__ import annotations

import socket

import pytest

from broker.sources.addresses import refusal
from broker.sources.fetcher import MediaSourceRefused, SourceFetcher


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.0.0.1", "private"), ("192.168.1.1", "private"), ("172.16.0.1", "private"),
    ("169.254.169.254", "metadata"), ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade"), ("fd00::1", "unique-local"), ("0.0.0.0", "private"),
    ("fd00:ec2::254", "metadata"), ("224.0.0.1", "private"),
])
def test_unsafe_addresses_are_refused(address, why):
    assert why in (refusal(address) or "")


def test_public_addresses_pass():
    assert refusal("93.184.215.14") is None and refusal("2606:2800:21f:cb07::1") is None


class Rebinding:
    """A resolver that answers a public address once, then loopback."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return ["93.184.215.14"] if self.calls == 1 else ["127.0.0.1"]


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup():
    resolver, connected = Rebinding(), []

    def open_socket(address: tuple[str, int], timeout: float) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError("test: no network")
    fetcher = SourceFetcher(allowed_hosts=(), timeout=1, resolve=resolver,
                            open_socket=open_socket)
    with pytest.raises(MediaSourceRefused) as refused:
        fetcher.open("https://media.example.com/v.mp4")
    assert connected == [("93.184.215.14", 443)] and resolver.calls == 1
    assert refused.value.transient  # unreachable: the worker would retry, re-checking again
    with pytest.raises(MediaSourceRefused) as second:  # the next lookup answers loopback
        fetcher.open("https://media.example.com/v.mp4")
    assert "loopback" in second.value.reason and connected == [("93.184.215.14", 443)]


def test_any_unsafe_answer_among_several_refuses_the_host():
    fetcher = SourceFetcher(allowed_hosts=(), timeout=1,
                            resolve=lambda h, p: ["93.184.215.14", "10.0.0.7"],
                            open_socket=lambda a, t: pytest.fail("connected"))
    with pytest.raises(MediaSourceRefused, match="private"):
        fetcher.open("https://media.example.com/v.mp4")


def test_listed_hosts_skip_the_address_check_and_urls_are_judged_first():
    connected = []

    def open_socket(address: tuple[str, int], timeout: float) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError()
    fetcher = SourceFetcher(allowed_hosts=("storage.internal",), timeout=1,
                            resolve=lambda h, p: ["10.0.0.5"], open_socket=open_socket)
    with pytest.raises(MediaSourceRefused):
        fetcher.open("https://storage.internal:8443/v.mp4")
    assert connected == [("10.0.0.5", 8443)]
    for url, why in [("http://storage.internal/v", "https"),
                     ("https://user@storage.internal/v", "plain host"),
                     ("ftp://storage.internal/v", "https")]:
        with pytest.raises(MediaSourceRefused, match=why):
            fetcher.open(url)
