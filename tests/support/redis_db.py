"""A Redis database of the run's own, so two test runs on one machine never flush each other."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO

_held: list[IO[str]] = []  # lock files stay open (and locked) until the process ends
CANDIDATES = (1, *range(3, 14))  # database 2 belongs to the e2e tests, 14-15 to benchmarks


def claim_test_database(host: str = "127.0.0.1", port: int = 6379) -> str:
    """TEST_REDIS_URL if set, else the first database no other run on this machine holds."""
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    for db in CANDIDATES:
        lock = open(Path(tempfile.gettempdir()) / f"tiktok-broker-test-db-{port}-{db}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        _held.append(lock)
        url = f"redis://{host}:{port}/{db}"
        os.environ["TEST_REDIS_URL"] = url  # for modules that read it themselves
        return url
    raise RuntimeError("every test database is held by another run")
