"""TikTok's single-use refresh tokens under load: one refresh per user across all replicas."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.flows import login

CONCURRENT = 50


@pytest.fixture
def two_replicas(broker_factory, redis_client):
    """Two broker processes with three workers each on one Redis; no profile cache."""
    return (broker_factory(workers=3, PROFILE_CACHE_TTL="0"),
            broker_factory(workers=3, PROFILE_CACHE_TTL="0", JWT_TTL="901"))


def _storm(replicas, token: str) -> list[int]:
    def call(i: int) -> int:
        url = replicas[i % len(replicas)].url
        return requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"},
                            timeout=60).status_code

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(call, range(CONCURRENT)))


def test_token_expired_at_tiktok_is_refreshed_exactly_once(two_replicas, sandbox):
    result = login(two_replicas[0].url)
    sandbox.expire_token("-000alice")
    sandbox.reset_log()

    statuses = _storm(two_replicas, result.access_token)

    assert statuses == [200] * CONCURRENT
    assert len(sandbox.requests(endpoint="token", grant_type="refresh_token")) == 1


def test_token_near_expiry_is_refreshed_ahead_exactly_once(two_replicas, sandbox):
    sandbox.configure(access_ttl=3)
    try:
        result = login(two_replicas[0].url)
    finally:
        sandbox.configure(access_ttl=0)
    time.sleep(3)  # the broker's own clock now says the token is about to expire
    sandbox.reset_log()

    statuses = _storm(two_replicas, result.access_token)

    assert statuses == [200] * CONCURRENT
    assert len(sandbox.requests(endpoint="token", grant_type="refresh_token")) == 1
    assert all(r["status"] == 200 for r in sandbox.requests(endpoint="user_info"))
