"""Where the time of a cached GET /api/me goes: each piece timed alone, in-process.

    python -m bench.breakdown [--redis redis://127.0.0.1:6379/14] [--calls 2000]

Starts a sandbox, builds the broker with `create_app()` against it, logs a user in through the
consent form, then times the JWT check, each Redis round trip of the request, and the whole
request through Flask's test client (no network, no gunicorn: the pieces, not the throughput).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import limits
import requests
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from broker import create_app
from broker.config.settings import Settings
from broker.services import EXTENSION, Services
from broker.web.ratelimits import KEY_PREFIX
from tests.support.broker import broker_env
from tests.support.consent import submit_consent
from tests.support.sandbox import start_sandbox


def timed(calls: int, action: Callable[[], object]) -> float:
    """Microseconds per call of `action` (after one warm-up call)."""
    action()
    started = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - started) / calls * 1e6


def run(redis_url: str, calls: int) -> dict[str, float]:
    """Microseconds per call of each piece of a cached /api/me, by name."""
    with start_sandbox() as sandbox:
        env = broker_env(sandbox_url=sandbox.url, redis_url=redis_url, port=18999,
                         env={"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_API": "100000000/minute"})
        sandbox.configure(redirect_uris=[env["TIKTOK_REDIRECT_URI"]])
        app = create_app(Settings.from_env({**os.environ, **env}))
        client, svc = app.test_client(), app.extensions[EXTENSION]
        assert isinstance(svc, Services)
        started = client.get("/login")
        callback = urlsplit(submit_consent(requests.Session(), started.headers["Location"])
                            .headers["Location"])
        landed = client.get(f"{callback.path}?{callback.query}")
        token = dict(parse_qsl(urlsplit(landed.headers["Location"]).fragment))["access_token"]
        principal = svc.jwts.verify(token)
        limiter = MovingWindowRateLimiter(RedisStorage(
            "redis://", connection_pool=svc.redis.connection_pool, key_prefix=KEY_PREFIX))
        item = limits.parse("100000000/minute")
        bearer = {"Authorization": f"Bearer {token}"}
        pieces = {
            "Flask + test client, a route doing nothing (`/healthz`)":
                lambda: client.get("/healthz"),
            "JWT verification (HS256, claims, kid)": lambda: svc.jwts.verify(token),
            "Redis round trip: session still alive (`EXISTS`)":
                lambda: svc.sessions.is_active(principal.session_id),
            "Redis round trip: rate-limit window (moving-window Lua)":
                lambda: limiter.hit(item, "user:bench", "api"),
            "Redis round trip: cached profile (`HGET` + JSON)":
                lambda: svc.profiles.get(principal.open_id, ("open_id", "display_name")),
            "**whole cached `GET /api/me`**": lambda: client.get("/api/me", headers=bearer),
        }
        return {name: timed(calls, action) for name, action in pieces.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print("| piece | µs per request |\n|---|---:|")
    for name, micros in run(args.redis, args.calls).items():
        print(f"| {name} | {micros:,.0f} |")


if __name__ == "__main__":
    main()
