"""Inbound rate limits, counted in the broker's Redis so every worker and replica shares them.

- Sign-in routes (`/login`, the callback, `/auth/*`): `RATE_LIMIT_LOGIN` per client IP and route
  (the IP as ProxyFix resolved it from `TRUSTED_PROXIES`).
- The API (`/api/*`, `/service/*`): `RATE_LIMIT_API` per user (the caller broker.web.bearer
  resolved, else the client IP), one budget for all API routes.
- A service key's calls (broker.accounts): `RATE_LIMIT_SERVICE` per key, whichever route.
- Nothing else (webhooks, health, readiness, metrics) is limited; CORS preflights are not counted.

The `limits` library (the engine under Flask-Limiter) does the counting: moving windows under
`tb:rl:`, each key expiring with its window, through the broker's own connection pool. The Flask
glue is this module's: a profile of cached /api/me showed Flask-Limiter's per-request
bookkeeping costing about as much as its Redis call. When Redis fails, counting goes on in this
process's memory: a request is never refused or failed because the limiter cannot reach Redis
(the request itself then meets the outage).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import limits
import redis
from flask import Flask, request
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from broker.config.settings import Settings
from broker.errors import RateLimited
from broker.storage.keyspace import PREFIX
from broker.web.caller import api_counted, identified

KEY_PREFIX = PREFIX + "rl"


def client_ip() -> str:
    """The client's address (after ProxyFix), as a limiter key."""
    return f"ip:{request.remote_addr or 'unknown'}"


def user_or_ip() -> str:
    """The identified caller (a login's user, a service key, an app user), else the client IP."""
    principal = identified()
    if principal is None:
        return client_ip()  # the view answers 401; count it against the address
    return principal.caller


def _service_key_call() -> bool:
    principal = identified()
    return principal is not None and principal.holder.startswith("key:")


@dataclass(frozen=True)
class Rule:
    """One limit: when it applies, whom it counts, and under which scope."""

    items: tuple[limits.RateLimitItem, ...]
    applies: Callable[[], bool]
    who: Callable[[], str]
    scope: Callable[[], str]


def _sign_in_route() -> bool:
    return request.endpoint in ("auth.login", "auth.callback", "service.connect") \
        or request.path.startswith("/auth/")


def _api_route() -> bool:
    """/api/* and the service routes, except calls with a service key (their own budget)."""
    return request.path.startswith(("/api/", "/service/")) \
        and request.endpoint != "service.connect" and not _service_key_call()


class RateLimits:
    """Counts each request against the rules that apply; a refusal is a 429 with Retry-After."""

    def __init__(self, pool: redis.ConnectionPool, rules: tuple[Rule, ...]) -> None:
        self._rules = rules
        self._shared = MovingWindowRateLimiter(
            RedisStorage("redis://", connection_pool=pool, key_prefix=KEY_PREFIX))
        self._local = MovingWindowRateLimiter(MemoryStorage())  # while Redis is unreachable

    def check(self) -> None:
        """Before each request: count it, or raise RateLimited."""
        if request.method == "OPTIONS" or api_counted():
            # Preflights are not counted. A login's API call was counted by broker.auth.gate,
            # in the round trip that checked its session; no other rule applies to it (it is
            # neither a sign-in route nor a service key's call).
            return
        for rule in self._rules:
            if not rule.applies():
                continue
            identifiers = (rule.who(), rule.scope())
            for item in rule.items:
                limiter = self._shared
                try:
                    allowed = limiter.hit(item, *identifiers)
                except redis.exceptions.RedisError:
                    limiter = self._local
                    allowed = limiter.hit(item, *identifiers)
                if not allowed:
                    wait = self._retry_after(limiter, item, identifiers)
                    raise RateLimited(f"Too many requests ({item}); try again in {wait} s.",
                                      headers={"Retry-After": str(wait)})

    @staticmethod
    def _retry_after(limiter: MovingWindowRateLimiter, item: limits.RateLimitItem,
                     identifiers: tuple[str, str]) -> int:
        try:
            reset_at = limiter.get_window_stats(item, *identifiers).reset_time
        except redis.exceptions.RedisError:
            return item.get_expiry()
        return min(max(1, math.ceil(reset_at - time.time())), item.get_expiry())


def install_rate_limits(app: Flask, settings: Settings,
                        pool: redis.ConnectionPool) -> RateLimits | None:
    """Count requests before they are handled (unless RATE_LIMIT_ENABLED=false)."""
    if not settings.rate_limit_enabled:
        return None
    rate_limits = RateLimits(pool, (
        Rule(tuple(limits.parse_many(settings.rate_limit_login)), _sign_in_route, client_ip,
             lambda: f"sign-in:{request.endpoint}"),
        Rule(tuple(limits.parse_many(settings.rate_limit_api)), _api_route, user_or_ip,
             lambda: "api"),
        Rule(tuple(limits.parse_many(settings.rate_limit_service)), _service_key_call,
             user_or_ip, lambda: "service"),
    ))
    app.before_request(rate_limits.check)
    return rate_limits
