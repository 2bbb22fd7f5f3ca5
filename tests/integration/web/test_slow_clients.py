"""Slow clients cannot take the broker down: more silent half-sent requests than the broker has
threads, and ordinary requests are still served (broker.web.server's read timeouts)."""

from __future__ import annotations

import contextlib
import socket
import time
from urllib.parse import urlsplit

import requests

WORKERS, THREADS = 1, 2  # two threads in all: a handful of slow clients would hold both


def slow_clients(url: str, count: int, first_bytes: bytes) -> list[socket.socket]:
    """`count` connections that each send `first_bytes` and then nothing."""
    parts = urlsplit(url)
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def test_half_sent_headers_do_not_hold_the_threads(broker_factory):
    broker = broker_factory(workers=WORKERS, GUNICORN_THREADS=str(THREADS),
                            CLIENT_READ_TIMEOUT="1")
    held = slow_clients(broker.url, 6, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        time.sleep(0.5)  # every thread is now reading a header that never ends
        answer = requests.get(f"{broker.url}/healthz", timeout=20)
        assert answer.status_code == 200
        for sock in held:  # the broker gave up on them: the connections are closed
            sock.settimeout(5)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1024) == b""
    finally:
        for sock in held:
            sock.close()


def test_a_body_that_never_comes_does_not_hold_a_thread(broker_factory):
    broker = broker_factory(workers=WORKERS, GUNICORN_THREADS=str(THREADS),
                            CLIENT_READ_TIMEOUT="1")
    held = slow_clients(broker.url, 4, b"POST /auth/session HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Type: application/json\r\n"
                                       b"Content-Length: 1000\r\n\r\n{")
    try:
        time.sleep(0.5)
        assert requests.get(f"{broker.url}/healthz", timeout=20).status_code == 200
    finally:
        for sock in held:
            sock.close()
