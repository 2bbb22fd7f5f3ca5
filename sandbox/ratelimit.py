"""Per-token sliding-window rate limits of §7."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

# §7: requests per 1-minute sliding window, per user access token.
LIMITS: dict[str, int] = {
    "user_info": 600,
    "creator_info": 20,
    "video_init": 6,
    "inbox_video_init": 6,
    "content_init": 6,
    "status_fetch": 30,
    "video_list": 600,  # §4b: 600 per endpoint per minute, per app rather than per token
    "video_query": 600,
}
PER_APP = frozenset({"video_list", "video_query"})
WINDOW = 60.0


class RateLimiter:
    """Counts calls per (endpoint, token) in a sliding window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def reset(self) -> None:
        """Forget every counted call."""
        with self._lock:
            self._hits.clear()

    def hit(self, endpoint: str, token: str, now: float) -> float | None:
        """Count one call; return None if allowed, else seconds until a slot frees up."""
        limit = LIMITS.get(endpoint)
        if limit is None:
            return None
        with self._lock:
            q = self._hits[(endpoint, "*" if endpoint in PER_APP else token)]
            while q and q[0] <= now - WINDOW:
                q.popleft()
            if len(q) >= limit:
                return q[0] + WINDOW - now
            q.append(now)
            return None
