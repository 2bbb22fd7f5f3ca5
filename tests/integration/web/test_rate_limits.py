"""Inbound rate limits: per IP on sign-in routes, per user on the API, shared through Redis by
every worker and replica, answered 429 in the broker's JSON shape with Retry-After."""

from __future__ import annotations

import re

import requests

from tests.support.flows import login

# Test brokers run in development mode, where limits are off unless switched on.
LIMITED = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_LOGIN": "3/minute",
           "RATE_LIMIT_API": "5/minute"}


def start_login(url: str, client_ip: str | None = None) -> requests.Response:
    headers = {"Connection": "close"}  # a new connection each time: any worker may answer
    if client_ip:
        headers["X-Forwarded-For"] = client_ip
    return requests.get(f"{url}/login", headers=headers, allow_redirects=False, timeout=10)


def assert_limited(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "rate_limited"
    assert set(body) == {"error", "error_description"}
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_fourth_login_from_one_address_is_refused(broker_factory, redis_client, sandbox):
    broker = broker_factory(TRUSTED_PROXIES="1", **LIMITED)
    for _ in range(3):
        assert start_login(broker.url, "203.0.113.5").status_code == 302
    assert_limited(start_login(broker.url, "203.0.113.5"))
    # The address is the one the trusted proxy reports: another client is not limited.
    assert start_login(broker.url, "203.0.113.6").status_code == 302
    # Each sign-in route counts on its own: the callback still answers (400: no state).
    callback = requests.get(f"{broker.url}/auth/callback",
                            headers={"X-Forwarded-For": "203.0.113.5"}, timeout=10)
    assert callback.status_code == 400 and callback.json()["error"] == "invalid_state"


def test_limits_are_shared_by_workers_and_replicas(broker_factory, redis_client, sandbox):
    first = broker_factory(workers=2, fresh=True, **LIMITED)
    second = broker_factory(workers=2, fresh=True, **LIMITED)
    answers = [start_login(url).status_code for url in (first.url, second.url, first.url)]
    assert answers == [302, 302, 302]
    assert_limited(start_login(second.url))
    assert_limited(start_login(first.url))


def test_api_limit_counts_per_user(broker_factory, redis_client, sandbox):
    broker = broker_factory(**LIMITED)
    alice, bob = login(broker.url, user="-000alice"), login(broker.url, user="-000bob")
    for _ in range(5):
        assert requests.get(f"{broker.url}/api/me", headers=alice.bearer(),
                            timeout=10).status_code == 200
    assert_limited(requests.get(f"{broker.url}/api/me", headers=alice.bearer(), timeout=10))
    # One budget for every API route of the user...
    assert_limited(requests.get(f"{broker.url}/api/creator-info", headers=alice.bearer(),
                                timeout=10))
    # ...and only theirs: Bob, from the same address, is served.
    assert requests.get(f"{broker.url}/api/me", headers=bob.bearer(), timeout=10).ok
    # A CORS preflight is neither counted nor refused.
    preflight = requests.options(f"{broker.url}/api/me", timeout=10, headers={
        "Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200


def test_keys_live_under_the_prefix_with_ttls(broker_factory, redis_client, sandbox):
    broker = broker_factory(**LIMITED)
    result = login(broker.url)
    requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=10)
    limiter_keys = [k for k in redis_client.keys("*") if "LIMIT" in k or k.startswith("tb:rl")
                    or ":rl-api:" in k]
    assert limiter_keys
    for key in limiter_keys:
        # sign-in routes: `limits` under tb:rl:; a signed-in user's API window: in their slot
        assert key.startswith("tb:rl:") or re.fullmatch(r"tb:\{[0-9a-f]{12}\}:rl-api:.+", key)
        # a window's counter outlives it by one window (the next one weighs it)
        assert 0 < redis_client.ttl(key) <= (120 if ":rl-api:" in key else 60), key
    # the API counts by user (broker.auth.gate), in the user's own slot
    assert any(":-000alice:" in k for k in limiter_keys if ":rl-api:" in k)


def test_operations_and_webhooks_are_not_limited(broker_factory, redis_client, sandbox):
    broker = broker_factory(RATE_LIMIT_ENABLED="true", RATE_LIMIT_LOGIN="1/minute",
                            RATE_LIMIT_API="1/minute")
    for _ in range(4):
        for path in ("/healthz", "/readyz", "/metrics"):
            assert requests.get(f"{broker.url}{path}", timeout=10).status_code == 200, path
        webhook = requests.post(f"{broker.url}/webhooks/tiktok", data=b"{}", timeout=10)
        assert webhook.status_code == 400  # unsigned: refused, but never rate-limited
    assert not redis_client.keys("tb:rl:*")


def test_redis_down_is_a_503_and_limits_go_on_in_memory(broker_factory, tiktok):
    """The limiter never fails a request; it counts in each worker's memory until Redis is back."""
    broker = broker_factory(REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_ENABLED="true",
                            RATE_LIMIT_LOGIN="2/minute")
    answers = [start_login(broker.url) for _ in range(8)]
    assert answers[0].status_code == 503
    assert answers[0].json()["error"] == "store_unavailable"
    assert {a.status_code for a in answers} == {503, 429}  # 2 workers: at most 4 get through
    for answer in answers:
        assert answer.json()["error"] in ("store_unavailable", "rate_limited")


def test_development_brokers_are_not_limited_unless_asked(broker_factory, redis_client, sandbox):
    broker = broker_factory(RATE_LIMIT_LOGIN="1/minute")  # BROKER_ENV=development
    assert [start_login(broker.url).status_code for _ in range(3)] == [302, 302, 302]
    assert not redis_client.keys("tb:rl:*")
