"""New connections go to a worker with a free thread (broker.web.server.PatientThreadWorker):
one connection per thread arriving at once ends up spread evenly over the workers, not piled on
whichever worker woke first."""

from __future__ import annotations

import socket
import time
from collections import Counter
from urllib.parse import urlsplit

import psutil

WORKERS, THREADS = 3, 2


def workers_of(master: psutil.Process, count: int) -> list[psutil.Process]:
    """The master's `count` workers, once all of them are up and waiting for connections."""
    deadline = time.monotonic() + 20
    while len(master.children()) < count:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)
    time.sleep(1)  # forked from the preloaded app: each is in its accept loop well before this
    return master.children()


def connections_per_worker(workers: list[psutil.Process], port: int) -> Counter[int]:
    return Counter({w.pid: sum(1 for c in w.net_connections("tcp")
                               if c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)
                    for w in workers})


def test_simultaneous_connections_are_spread_over_the_workers(broker_factory):
    broker = broker_factory(workers=WORKERS, GUNICORN_THREADS=str(THREADS))
    port = urlsplit(broker.url).port
    workers = workers_of(psutil.Process(broker.process.pid), WORKERS)
    # Silent connections: each holds a thread of the worker that took it while gunicorn waits
    # for its first bytes, so a worker that took THREADS of them has no thread to spare.
    held = [socket.create_connection(("127.0.0.1", port), timeout=5)
            for _ in range(WORKERS * THREADS)]
    try:
        time.sleep(0.5)
        counts = connections_per_worker(workers, port)
        assert sum(counts.values()) == WORKERS * THREADS, counts
        assert sorted(counts.values()) == [THREADS] * WORKERS, counts
        # One more is still accepted, and answered once a thread is free (gunicorn gives up
        # waiting for a silent connection's first bytes after 5 s).
        with socket.create_connection(("127.0.0.1", port), timeout=15) as probe:
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert probe.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()
