"""Sliding windows in Redis: "at most N calls per window" for one key, shared by every worker
and replica, checked and counted atomically by one script (a sorted set of call times).
"""

from __future__ import annotations

import secrets

import redis

from broker.clock import Clock

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


class SlidingWindows:
    """Counts calls per key in a sliding window; a full window refuses and says how long."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._script = redis_client.register_script(_WINDOW_SCRIPT)
        self._clock = clock

    def take(self, key: str, limit: int, window: float = 60.0) -> float:
        """Count one call under `key`; 0 when allowed, else the seconds until there is room."""
        now = self._clock.now()
        wait = self._script(keys=[key],
                            args=[now, window, limit, f"{now:.6f}:{secrets.token_hex(6)}"])
        return float(wait) if wait else 0.0
