"""Inbound rate limits (Flask-Limiter), counted in the broker's Redis so every worker and replica
shares them.

- Sign-in routes (`/login`, the callback, `/auth/*`): `RATE_LIMIT_LOGIN` per client IP and route
  (the IP as ProxyFix resolved it from `TRUSTED_PROXIES`).
- The API (`/api/*`): `RATE_LIMIT_API` per user (`sub` of a verified JWT, else the client IP),
  one budget for all API routes.
- Nothing else (webhooks, health, readiness, metrics) is limited; CORS preflights are not counted.

Counters are moving windows under `tb:rl:`, each key expiring with its window. They go through
the broker's own connection pool (any REDIS_URL form, same timeouts). When Redis fails, the
limiter counts in this process's memory until Redis answers again: a request is never refused
or failed because the limiter cannot reach Redis (the request itself then meets the outage).
"""

from __future__ import annotations

import math
import time
from typing import Any

import limits
import redis
from flask import Flask, Response, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded

from broker.bearer import verified_jwt
from broker.errors import BrokerError, RateLimited, error_response
from broker.services import EXTENSION as SERVICES
from broker.services import Services

KEY_PREFIX = "tb:rl"
STRATEGY = "moving-window"
RATE_RULE = "a rate limit such as 30/minute, or several joined by ; (10/second;300/minute)"
COUNTED_METHODS = ("get", "post", "put", "patch", "delete")  # not OPTIONS: CORS preflights


def parse_rate_limit(raw: str) -> str:
    """Check a limit in the `limits` syntax ("30/minute", "10/second;300/minute")."""
    items = limits.parse_many(raw)  # ValueError when it does not parse
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(raw)
    return raw


def client_ip() -> str:
    """The client's address (after ProxyFix), as a limiter key."""
    return f"ip:{request.remote_addr or 'unknown'}"


def user_or_ip() -> str:
    """The user of a verified bearer JWT (its `sub`), else the client IP, as a limiter key."""
    try:
        return "user:" + verified_jwt().open_id
    except BrokerError:
        return client_ip()  # the view answers 401; count it against the address


def _not_sign_in() -> bool:
    return not (request.endpoint in ("auth.login", "auth.callback")
                or request.path.startswith("/auth/"))


def _not_api() -> bool:
    return not request.path.startswith("/api/")


def install_rate_limits(app: Flask) -> Limiter | None:
    """Attach the limiter to the app (unless RATE_LIMIT_ENABLED=false) and its 429 answer."""
    svc: Services = app.extensions[SERVICES]
    settings = svc.settings
    if not settings.rate_limit_enabled:
        return None
    storage: dict[str, Any] = {"connection_pool": svc.redis.connection_pool,
                               "key_prefix": KEY_PREFIX}
    limiter = Limiter(
        client_ip, strategy=STRATEGY, storage_uri="redis://", storage_options=storage,
        swallow_errors=True, in_memory_fallback_enabled=True, headers_enabled=False,
        application_limits=[
            ApplicationLimit(settings.rate_limit_login, key_function=client_ip,
                             scope=lambda endpoint: f"sign-in:{endpoint}",
                             methods=COUNTED_METHODS, exempt_when=_not_sign_in),
            ApplicationLimit(settings.rate_limit_api, key_function=user_or_ip, scope="api",
                             methods=COUNTED_METHODS, exempt_when=_not_api),
        ])
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> Response:
        wait = 60
        try:
            breached = limiter.current_limit
            if breached is not None:
                wait = min(max(1, math.ceil(breached.reset_at - time.time())),
                           breached.limit.get_expiry())
        except redis.exceptions.RedisError:
            pass
        return error_response(RateLimited(
            f"Too many requests ({error.description}); try again in {wait} s.",
            headers={"Retry-After": str(wait)}))

    return limiter
