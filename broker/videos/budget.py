"""TikTok's app-wide Display API budget (tiktok-api.md §4b), counted across every replica.

`tb:tiktok-budget:<endpoint>` is a sliding one-minute window (a sorted set of call times) for the
whole app, checked and updated atomically by one script, so the broker refuses the call itself
(429 with `Retry-After`) before TikTok would.
"""

from __future__ import annotations

import math

import redis

from broker.clock import Clock
from broker.errors import RateLimited
from broker.storage.keyspace import redis_key
from broker.storage.windows import SlidingWindows


class TikTokBudgetSpent(RateLimited):
    """The app used its share of TikTok's per-minute budget for an endpoint."""

    code = "tiktok_rate_limited"
    description = "TikTok's rate limit for this app would be exceeded; try again shortly."


class AppBudget:
    """Counts the app's calls per endpoint in a sliding window; refuses past the limit."""

    def __init__(self, redis_client: redis.Redis, clock: Clock, limit: int,
                 window: float = 60.0) -> None:
        self._windows = SlidingWindows(redis_client, clock)
        self.limit, self.window = limit, window

    def spend(self, endpoint: str) -> None:
        """Count one call to `endpoint`, or raise TikTokBudgetSpent with the wait in Retry-After."""
        wait = self._windows.take(redis_key("tiktok-budget", endpoint), self.limit, self.window)
        if wait:
            raise TikTokBudgetSpent(headers={"Retry-After": str(max(1, math.ceil(wait)))})
