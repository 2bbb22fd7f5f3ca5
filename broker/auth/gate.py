"""One Redis round trip for a signed-in call: the session is still alive, the user's API rate
windows take one more request, and the answer a route cached for this user is read, all in one
server-side script over keys in the user's slot (broker.storage.keyspace's hash tags).

Logout and revocation delete the session key, so the very next call on any replica is refused;
the windows are shared by every worker and replica; a cached answer is never older than its TTL.
"""

from __future__ import annotations

from dataclasses import dataclass

import limits
import redis

from broker.auth.jwts import Principal
from broker.clock import Clock
from broker.storage.keyspace import session_key, user_key

# KEYS: the session, then two counters per API limit (this window's, the previous one's), then
# (optional) the cached answer's hash. ARGV: now (ms), the number of limits, each limit's amount,
# each window (ms), the cached answer's hash field ('' for none). A sliding window counter:
# the previous window's count, weighted by how much of it still overlaps the last `window` ms,
# plus this window's (two GETs and an INCR: cheaper than a sorted set of every call, within a
# few percent of it). Answers {0} (session ended), {2, wait ms} (a limit is reached; nothing
# counted), or {1[, cached answer]}.
_GATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for i = 1, n do
  local limit, window = tonumber(ARGV[2 + i]), tonumber(ARGV[2 + n + i])
  local current = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[2 * i + 1]) or '0')
  local into = now % window
  if previous * (1 - into / window) + current + 1 > limit then
    local room = window - into
    if current + 1 <= limit and previous > 0 then
      room = math.max(1, window * (1 - (limit - current - 1) / previous) - into)
    end
    wait = math.max(wait, room)
  end
end
if wait > 0 then return {2, tostring(math.ceil(wait))} end
for i = 1, n do
  redis.call('INCR', KEYS[2 * i])
  redis.call('PEXPIRE', KEYS[2 * i], 2 * tonumber(ARGV[2 + n + i]))
end
local field = ARGV[3 + 2 * n]
if field ~= '' then return {1, redis.call('HGET', KEYS[2 + 2 * n], field)} end
return {1}
"""


@dataclass(frozen=True)
class Passage:
    """What the gate said: the session lives, the windows had room, and the cached answer."""

    alive: bool
    wait_seconds: int = 0  # > 0: refused by a full window, retry after this long
    cached: str | None = None


class Gate:
    """The one script every signed-in `/api/*` call goes through."""

    def __init__(self, redis_client: redis.Redis, clock: Clock,
                 api_limits: tuple[limits.RateLimitItem, ...]) -> None:
        self._script = redis_client.register_script(_GATE)
        self._clock = clock
        self._limits = [(item.amount, item.get_expiry() * 1000,
                         f"rl-api:{item.amount}-per-{item.get_expiry()}s") for item in api_limits]

    def enter(self, principal: Principal, *, count: bool,
              cached: tuple[str, str] | None = None) -> Passage:
        """Check the session, count the call (`count`: an API route), and read `cached`
        ((key, hash field), in the user's slot) in one round trip."""
        windows = self._limits if count else []
        now = int(self._clock.now() * 1000)
        keys = [session_key(principal.session_id)]
        for _, window, label in windows:  # this window's counter, then the previous one's
            base = user_key(principal.open_id, label)
            keys += [f"{base}:{now // window}", f"{base}:{now // window - 1}"]
        if cached is not None:
            keys.append(cached[0])
        answer = self._script(keys=keys, args=[
            now, len(windows), *(amount for amount, _, _ in windows),
            *(window for _, window, _ in windows), cached[1] if cached is not None else ""])
        if answer[0] == 0:
            return Passage(alive=False)
        if answer[0] == 2:
            return Passage(alive=True, wait_seconds=max(1, -(-int(answer[1]) // 1000)))
        return Passage(alive=True, cached=answer[1] if len(answer) > 1 else None)
