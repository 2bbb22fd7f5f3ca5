"""TikTok's per-token rate limits (tiktok-api.md §7), counted per user across every worker.

`tb:budget:<endpoint>:<open_id>` is a sliding one-minute window (a sorted set of call times),
checked and updated atomically by one script.
"""

from __future__ import annotations

import secrets

import redis

from broker.clock import Clock
from broker.storage.keyspace import redis_key

_WINDOW_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(oldest[2] + ARGV[2] - ARGV[1])
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]))
return ''
"""


class CallBudget:
    """Counts calls per endpoint and user in a sliding window; refuses past the limit."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._script = redis_client.register_script(_WINDOW_SCRIPT)
        self._clock = clock

    def take(self, endpoint: str, open_id: str, limit: int, window: float = 60.0) -> float:
        """Count one call; 0 when allowed, else the seconds until the window has room."""
        now = self._clock.now()
        wait = self._script(keys=[redis_key("budget", endpoint, open_id)],
                            args=[now, window, limit, f"{now:.6f}:{secrets.token_hex(6)}"])
        return float(wait) if wait else 0.0
