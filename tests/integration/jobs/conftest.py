"""Brokers and real worker processes on the same Redis and sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.worker import WorkerProcess, start_worker, worker_env

FAST = {"POST_RETRY_SECONDS": "1", "POST_CAP_RETRY_SECONDS": "2", "POST_LEASE_SECONDS": "4",
        "WORKER_MAINTENANCE_SECONDS": "2"}


@pytest.fixture
def posting_stack(broker_factory: Any, roomy_sandbox: Any, redis_client: Any,
                  redis_url: str) -> Iterator[Callable[..., tuple[Any, list[WorkerProcess]]]]:
    """`stack(workers=1, **env)`: a broker and `workers` worker processes sharing `env`."""
    started: list[WorkerProcess] = []

    def make(workers: int = 1, **env: str) -> tuple[Any, list[WorkerProcess]]:
        merged = {**FAST, **env}
        broker = broker_factory(**merged)
        port = int(broker.url.rsplit(":", 1)[1])
        child = worker_env(sandbox_url=roomy_sandbox.url, redis_url=redis_url,
                           broker_port=port, env=merged)
        group = [start_worker(child) for _ in range(workers)]
        started.extend(group)
        return broker, group

    yield make
    for worker in started:
        worker.stop()
