"""Where the time of a cached GET /api/me goes: each piece timed alone, in-process.

    python -m bench.breakdown [--redis redis://127.0.0.1:6379/14] [--calls 2000]

Starts a sandbox, builds the broker with `create_app()` against it, logs a user in through the
consent form, then times the JWT check (in full, as on a token's first call in a worker, and
remembered, as on every later one), the request's one Redis round trip (broker.auth.gate:
session, rate windows and cached profile in one script), and the whole request through Flask's
test client (no network, no gunicorn: the pieces, not the throughput). Every hook and the view
run as in production; metrics in this process's own registry (no multiprocess files).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import requests
from flask import Flask

from broker import create_app
from broker.auth.jwts import JwtService
from broker.clock import SystemClock
from broker.config.settings import Settings
from broker.profiles import fields_for
from broker.services import EXTENSION, Services
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


@contextlib.contextmanager
def signed_in(redis_url: str) -> Iterator[tuple[Flask, Services, str]]:
    """The broker from `create_app()` against a sandbox, and a JWT of a user who signed in
    through the consent form; the API rate limit on, too high to refuse anything."""
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
        yield app, svc, dict(parse_qsl(urlsplit(landed.headers["Location"]).fragment))[
            "access_token"]


def run(redis_url: str, calls: int) -> dict[str, float]:
    """Microseconds per call of each piece of a cached /api/me, by name."""
    with signed_in(redis_url) as (app, svc, token):
        client = app.test_client()
        principal = svc.jwts.verify(token)
        settings = svc.settings
        first_sight = JwtService(settings.signing_keys, issuer=settings.jwt_issuer,
                                 audience=settings.jwt_audience, ttl=settings.jwt_ttl,
                                 clock=SystemClock())  # remembers nothing
        bearer = {"Authorization": f"Bearer {token}"}
        client.get("/api/me", headers=bearer)  # cached from here on
        slot = svc.profiles.cache_slot(principal.open_id, fields_for(principal.scopes, None))
        pieces = {
            "Flask + test client, a route doing nothing (`/healthz`)":
                lambda: client.get("/healthz"),
            "JWT verification in full (HS256, claims, kid: a token's first call)":
                lambda: first_sight.verify(token),
            "JWT verification of a remembered token (the clock only)":
                lambda: svc.jwts.verify(token),
            "the one Redis round trip: session, rate window, cached profile (one script)":
                lambda: svc.gate.enter(principal, count=True, cached=slot),
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
