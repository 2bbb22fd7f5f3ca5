"""TikTok and Redis faults give fast, honest 4xx/5xx JSON errors: never a 500, never a hang."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.support.flows import consent_redirect, finish_login, login, start_login


@pytest.fixture
def uncached(broker_factory, redis_client):
    """A broker that asks TikTok on every /api/me (TIKTOK_TIMEOUT is 3 s in tests)."""
    broker = broker_factory(PROFILE_CACHE_TTL="0")
    return broker, login(broker.url)


def _me(broker, result) -> requests.Response:
    return requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=30)


@pytest.mark.parametrize(("fault", "status", "code"), [
    ({"kind": "status", "status": 500}, 502, "tiktok_error"),
    ({"kind": "status", "status": 503}, 503, "tiktok_unavailable"),
    ({"kind": "malformed"}, 502, "tiktok_bad_response"),
    ({"kind": "drop"}, 503, "tiktok_unavailable"),
    ({"kind": "error_200", "error": "internal_error"}, 502, "tiktok_error"),
    ({"kind": "error_200", "error": "scope_not_authorized"}, 403, "scope_not_granted"),
])
def test_tiktok_failures_map_to_gateway_errors(uncached, sandbox, fault, status, code):
    broker, result = uncached
    sandbox.fault("user_info", **fault)
    response = _me(broker, result)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == code
    assert set(body) <= {"error", "error_description", "tiktok_log_id"}


def test_tiktok_rate_limit_becomes_429_with_retry_after(uncached, sandbox):
    broker, result = uncached
    sandbox.fault("user_info", "rate_limit")
    response = _me(broker, result)
    assert response.status_code == 429
    assert response.json()["error"] == "tiktok_rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_slow_tiktok_is_a_fast_504(uncached, sandbox):
    broker, result = uncached
    sandbox.fault("user_info", "latency", seconds=6)
    started = time.monotonic()
    response = _me(broker, result)
    assert response.status_code == 504
    assert response.json()["error"] == "tiktok_timeout"
    assert time.monotonic() - started < 5.5
    health = requests.get(f"{broker.url}/healthz", timeout=2)
    assert health.status_code == 200


def test_refresh_failing_upstream_is_not_a_logout(uncached, sandbox):
    broker, result = uncached
    sandbox.expire_token("-000alice")
    sandbox.fault("token", "status", status=503, times=1)
    assert _me(broker, result).status_code == 503
    assert _me(broker, result).status_code == 200  # the next try refreshes and succeeds


def test_token_endpoint_errors_sent_with_http_200_are_errors(uncached, sandbox):
    broker, _ = uncached
    sandbox.configure(errors_as_200=True)
    try:
        browser_result = login(broker.url, browser=requests.Session())
        sandbox.expire_token("-000alice")
        sandbox.fault("token", "error_200", error="invalid_grant", times=1)
        response = _me(broker, browser_result)
    finally:
        sandbox.configure(errors_as_200=False)
    assert response.status_code == 401
    assert response.json()["error"] == "reauth_required"


def test_redis_down_is_503_and_readyz_says_so(tiktok, broker_factory):
    broker = broker_factory(REDIS_URL="redis://127.0.0.1:1/0")
    assert requests.get(f"{broker.url}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"{broker.url}/readyz", timeout=5)
    assert ready.status_code == 503
    login_attempt = requests.get(f"{broker.url}/login", allow_redirects=False, timeout=5)
    assert login_attempt.status_code == 503
    assert login_attempt.json()["error"] == "store_unavailable"
    assert login_attempt.headers["Retry-After"] == "1"


def test_slow_tiktok_under_load_leaves_the_other_routes_answering(broker_factory, sandbox,
                                                                  redis_client):
    # One worker with 8 threads, at most 6 of them waiting on TikTok at a time.
    broker = broker_factory(workers=1, PROFILE_CACHE_TTL="0", TIKTOK_TIMEOUT="2")
    result = login(broker.url)
    sandbox.fault("user_info", "latency", seconds=6)
    answers: list[requests.Response] = []

    def call_me() -> None:
        answers.append(requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=30))

    threads = [threading.Thread(target=call_me) for _ in range(24)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the TikTok calls are now all stuck waiting
    for path in ("/healthz", "/readyz", "/.well-known/jwks.json"):
        before = time.monotonic()
        assert requests.get(f"{broker.url}{path}", timeout=5).status_code == 200
        assert time.monotonic() - before < 1.0, path
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 8
    codes = {(a.status_code, a.json()["error"]) for a in answers}
    assert codes <= {(504, "tiktok_timeout"), (503, "tiktok_busy")}
    assert (504, "tiktok_timeout") in codes and (503, "tiktok_busy") in codes
    busy = next(a for a in answers if a.status_code == 503)
    assert busy.headers["Retry-After"] == "1"


def test_tiktok_redirects_are_never_followed(broker, sandbox):
    """A 307 from the token endpoint would re-send the secret, the code and the verifier."""
    browser = requests.Session()
    callback_url = consent_redirect(browser, start_login(browser, broker.url))
    sandbox.reset_log()
    sandbox.fault("token", "redirect", times=1)
    result = finish_login(browser, callback_url)
    assert result.fragment["error"] == "tiktok_bad_response"
    assert len(sandbox.requests(endpoint="token")) == 1  # asked once, not followed


def test_api_redirects_are_bad_responses_with_tiktoks_log_id(uncached, sandbox):
    broker, result = uncached
    sandbox.fault("user_info", "redirect", status=302, times=1)
    response = _me(broker, result)
    assert response.status_code == 502
    assert response.json()["error"] == "tiktok_bad_response"
    assert response.json()["tiktok_log_id"]
    assert len([r for r in sandbox.requests(endpoint="user_info")]) == 1


@pytest.mark.parametrize(("fault", "status"), [
    ({"kind": "status", "status": 503}, 503), ({"kind": "status", "status": 500}, 502),
    ({"kind": "rate_limit"}, 429)])
def test_errors_carry_tiktoks_log_id_whenever_tiktok_gave_one(uncached, sandbox, fault, status):
    broker, result = uncached
    sandbox.fault("user_info", times=1, **fault)
    response = _me(broker, result)
    assert response.status_code == status
    assert response.json()["tiktok_log_id"].startswith("2")
