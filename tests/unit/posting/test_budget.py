"""TikTok's per-token minute windows (§7), kept per user in Redis across workers."""

from __future__ import annotations

import os

import pytest
import redis

from broker.posting.budget import CallBudget


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def now(self) -> float:
        return self.t


@pytest.fixture
def client():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
    connection = redis.Redis.from_url(url, decode_responses=True)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis")
    connection.delete("tb:budget:status:-000test")
    yield connection
    connection.delete("tb:budget:status:-000test")
    connection.close()


def test_sliding_window(client):
    clock = Clock()
    budget = CallBudget(client, clock)
    for _ in range(30):
        assert budget.take("status", "-000test", 30) == 0
        clock.t += 1
    assert budget.take("status", "-000test", 30) == pytest.approx(30.0)  # first call at t0
    clock.t += 30.5
    assert budget.take("status", "-000test", 30) == 0  # the first call left the window
    assert 0 < client.ttl("tb:budget:status:-000test") <= 60
