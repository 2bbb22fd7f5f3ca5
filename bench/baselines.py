"""Baseline apps for the /api/me benchmarks, served exactly like the broker:

    BROKER_BIND=127.0.0.1:8100 gunicorn bench.baselines:bare_app -c gunicorn.conf.py
    BROKER_BIND=127.0.0.1:8101 gunicorn bench.baselines:forward_app -c gunicorn.conf.py
    BROKER_BIND=127.0.0.1:8102 gunicorn bench.baselines:floor_app -c gunicorn.conf.py
    BROKER_BIND=127.0.0.1:8103 gunicorn bench.baselines:refresh_floor_app -c gunicorn.conf.py

`bare_app`: GET /api/me answers $BENCH_ME_JSON (the profile the broker serves, captured from
it) with the broker's Cache-Control; no auth, no Redis. The floor for a cached /api/me.

`floor_app`: GET /api/me verifies the bearer JWT exactly as the broker does (the broker's own
JwtService, same key, issuer and audience from $BENCH_JWT_SECRET, $BENCH_JWT_ISSUER,
$BENCH_JWT_AUDIENCE), then makes ONE Redis round trip ($BENCH_REDIS_URL: a GET of the profile
it stored at start-up) and answers it. The floor for a revocable, shared session in this stack.

`refresh_floor_app`: POST /auth/refresh does what any rotating refresh must: ONE Redis round
trip (a script that checks the presented secret's SHA-256 against the session's and stores the
next one's, answering the session's fields), a JWT signed with the broker's own JwtService, and
the new cookie; `refresh_floor_sessions()` stores sessions for it. The floor for /auth/refresh.

`forward_app`: GET /api/me asks $BENCH_SANDBOX_URL/v2/user/info/?fields=$BENCH_FIELDS with
`Authorization: Bearer $BENCH_TIKTOK_TOKEN` (a real TikTok access token) through one pooled
requests.Session (same pool size as the broker's), and answers the user object. The floor for
an uncached /api/me: one TikTok round trip, nothing else.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from requests.adapters import HTTPAdapter


def _with_health(app: Flask) -> Flask:
    app.add_url_rule("/healthz", "healthz", lambda: jsonify(status="ok"))
    return app


def make_bare_app() -> Flask:
    app = Flask("bench.bare")
    profile: dict[str, Any] = json.loads(os.environ.get("BENCH_ME_JSON", "{}"))

    @app.get("/api/me")
    def me() -> Response:
        response = jsonify(profile)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return _with_health(app)


def make_floor_app() -> Flask:
    app = Flask("bench.floor")
    jwts = _bench_jwts()
    store = _bench_redis()
    key = "bench:floor:profile"
    store.set(key, os.environ.get("BENCH_ME_JSON", "{}"), ex=3600)

    @app.get("/api/me")
    def me() -> Response:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return Response(status=401)
        jwts.verify(token)
        response = Response(store.get(key), mimetype="application/json")
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return _with_health(app)


REFRESH_KEY = "bench:refresh:"
ROTATE = """
local stored = redis.call('HMGET', KEYS[1], 'rh', 'oid', 'sc')
if stored[1] ~= ARGV[1] then return false end
redis.call('HSET', KEYS[1], 'rh', ARGV[2])
return {stored[2], stored[3]}
"""


def make_refresh_floor_app() -> Flask:
    from broker.storage.keyspace import digest

    app = Flask("bench.refresh_floor")
    jwts = _bench_jwts()
    store = _bench_redis()
    rotate = store.register_script(ROTATE)

    @app.post("/auth/refresh")
    def refresh() -> Response:
        sid, _, secret = request.cookies.get("broker_refresh", "").partition(".")
        new_secret = secrets.token_urlsafe(32)
        found = rotate(keys=[REFRESH_KEY + sid], args=[digest(secret), digest(new_secret)])
        if not found:
            return Response(status=401)
        response = jsonify(access_token=jwts.issue(found[0], sid, tuple(found[1].split())),
                           token_type="Bearer", expires_in=jwts.ttl)
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie("broker_refresh", f"{sid}.{new_secret}", max_age=3600,
                            path="/auth", httponly=True, samesite="Lax")
        return response

    return _with_health(app)


def refresh_floor_sessions(redis_url: str, count: int) -> list[str]:
    """`count` new sessions for refresh_floor_app (an hour each): their cookie values."""
    import redis

    from broker.storage.keyspace import digest

    cookies = []
    with redis.Redis.from_url(redis_url) as client:
        pipe = client.pipeline()
        for _ in range(count):
            sid, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
            pipe.hset(REFRESH_KEY + sid, mapping={
                "rh": digest(secret), "oid": "-000alice", "sc": "user.info.basic"})
            pipe.expire(REFRESH_KEY + sid, 3600)
            cookies.append(f"{sid}.{secret}")
        pipe.execute()
    return cookies


def _bench_redis() -> Any:
    import redis
    return redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                                socket_timeout=2, decode_responses=True)


def _bench_jwts() -> Any:
    from broker.auth.jwts import JwtService
    from broker.clock import SystemClock
    from broker.config.keys import load_signing_keys
    return JwtService(load_signing_keys(os.environ.get("BENCH_JWT_SECRET", "x" * 32)),
                      issuer=os.environ.get("BENCH_JWT_ISSUER", ""),
                      audience=os.environ.get("BENCH_JWT_AUDIENCE", "tiktok-broker"), ttl=900,
                      clock=SystemClock())


def make_forward_app() -> Flask:
    app = Flask("bench.forward")
    sandbox = os.environ.get("BENCH_SANDBOX_URL", "http://127.0.0.1:9000")
    token = os.environ.get("BENCH_TIKTOK_TOKEN", "")
    fields = os.environ.get("BENCH_FIELDS", "open_id,display_name")
    http = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    http.mount("http://", adapter)
    http.mount("https://", adapter)

    @app.get("/api/me")
    def me() -> Response:
        upstream = http.get(f"{sandbox}/v2/user/info/", params={"fields": fields},
                            headers={"Authorization": f"Bearer {token}"}, timeout=(3, 10))
        upstream.raise_for_status()
        response = jsonify(upstream.json()["data"]["user"])
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return _with_health(app)


bare_app = make_bare_app()
forward_app = make_forward_app()
floor_app = make_floor_app() if os.environ.get("BENCH_REDIS_URL") else None
refresh_floor_app = make_refresh_floor_app() if os.environ.get("BENCH_REDIS_URL") else None
