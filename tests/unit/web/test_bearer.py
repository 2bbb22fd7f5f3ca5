"""The caller of a request is resolved once: a cached GET /api/me verifies its JWT exactly once,
even with the rate limiter keying on the user, and a refusal is answered by the route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from broker import create_app
from broker.profiles import fields_for
from broker.services import EXTENSION, Services
from tests.support.apps import REDIS_URL, make_settings


@pytest.fixture
def app() -> Iterator[Flask]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield create_app(make_settings(RATE_LIMIT_ENABLED="true", PROFILE_CACHE_TTL="60"))
    client.flushdb()


def signed_in(svc: Services, open_id: str = "user-1") -> str:
    """A live session with a cached profile; its bearer JWT."""
    scopes = ("user.info.basic",)
    session, _ = svc.sessions.create(open_id, scopes, 600)
    key, field = svc.profiles.cache_slot(open_id, fields_for(scopes, None)) or ("", "")
    svc.redis.hset(key, field, json.dumps({f: f"{f}-value" for f in fields_for(scopes, None)}))
    svc.redis.expire(key, 60)
    return svc.jwts.issue(open_id, session.session_id, scopes)


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(owner, name, counted)
    return calls


def test_a_cached_me_verifies_the_jwt_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    svc: Services = app.extensions[EXTENSION]
    token = signed_in(svc)
    verified = count_calls(monkeypatch, svc.jwts, "verify")
    gate = count_calls(monkeypatch, svc.gate, "enter")
    answer = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["open_id"] == "open_id-value"  # from the cache, not TikTok
    assert (len(verified), len(gate)) == (1, 1)
    # the gate counted this request against the user, which only the verified JWT names
    assert svc.redis.keys("tb:{*}:rl-api:*:user-1:*") and not svc.redis.keys("tb:rl:*")


def test_a_refused_jwt_is_verified_once_and_counted_by_address(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    svc: Services = app.extensions[EXTENSION]
    token = signed_in(svc)
    svc.sessions.end_all("user-1")
    verified = count_calls(monkeypatch, svc.jwts, "verify")
    answer = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_token"
    assert len(verified) == 1
    assert not svc.redis.keys("*rl-api*") and svc.redis.keys("tb:rl*ip:*")


def test_routes_without_bearer_security_verify_nothing(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    svc: Services = app.extensions[EXTENSION]
    verified = count_calls(monkeypatch, svc.jwts, "verify")
    answer = app.test_client().get("/healthz", headers={"Authorization": "Bearer x.y.z"})
    assert answer.status_code == 200 and verified == []
