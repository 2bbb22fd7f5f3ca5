"""TikTok's per-token rate limits (tiktok-api.md §7), counted per user across every worker.

`tb:budget:<endpoint>:<open_id>` is a sliding one-minute window (a sorted set of call times),
checked and updated atomically by one script.
"""

from __future__ import annotations

import redis

from broker.clock import Clock
from broker.storage.keyspace import redis_key
from broker.storage.windows import SlidingWindows


class CallBudget:
    """Counts calls per endpoint and user in a sliding window; refuses past the limit."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._windows = SlidingWindows(redis_client, clock)

    def take(self, endpoint: str, open_id: str, limit: int, window: float = 60.0) -> float:
        """Count one call; 0 when allowed, else the seconds until the window has room."""
        return self._windows.take(redis_key("budget", endpoint, open_id), limit, window)
