"""The OAuth state: checked before any TikTok call, single use, bound to the browser, 10 minutes."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.support.flows import consent_redirect, finish_login, start_login
from tests.support.sandbox import Sandbox


def _callback_with(callback_url: str, **changes: str | None) -> str:
    parts = urlsplit(callback_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return parts._replace(query=urlencode(query)).geturl()


def _approved(broker_url: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    return browser, consent_redirect(browser, start_login(browser, broker_url))


def _assert_refused(response: requests.Response, sandbox: Sandbox) -> None:
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_state"
    assert sandbox.requests(endpoint="token") == []


def test_missing_state_is_refused_before_tiktok(broker, sandbox):
    browser, callback = _approved(broker.url)
    _assert_refused(browser.get(_callback_with(callback, state=None), timeout=10), sandbox)


def test_wrong_state_is_refused(broker, sandbox):
    browser, callback = _approved(broker.url)
    _assert_refused(browser.get(_callback_with(callback, state="forged-state-value"),
                                timeout=10), sandbox)


def test_state_is_single_use(broker, sandbox):
    browser, callback = _approved(broker.url)
    first = finish_login(browser, callback)
    assert "access_token" in first.fragment
    sandbox.reset_log()
    replay = browser.get(callback, allow_redirects=False, timeout=10)
    _assert_refused(replay, sandbox)


def test_expired_state_is_refused(broker, sandbox, redis_client):
    browser, callback = _approved(broker.url)
    [transaction] = redis_client.keys("tb:tx:*")
    ttl = redis_client.ttl(transaction)
    assert 590 <= ttl <= 600  # STATE_TTL: 10 minutes
    redis_client.pexpire(transaction, 1)  # as if ten minutes had passed
    while redis_client.exists(transaction):
        pass
    _assert_refused(browser.get(callback, allow_redirects=False, timeout=10), sandbox)


def test_callback_from_another_browser_is_refused(broker, sandbox):
    _, callback = _approved(broker.url)
    _assert_refused(requests.get(callback, allow_redirects=False, timeout=10), sandbox)
    other = requests.Session()
    other.cookies.set("broker_login", "x" * 43)
    _assert_refused(other.get(callback, allow_redirects=False, timeout=10), sandbox)


def test_raced_callbacks_complete_one_login(broker, sandbox):
    browser, callback = _approved(broker.url)
    binding = {"broker_login": browser.cookies.get("broker_login")}
    results: list[requests.Response] = []

    def hit() -> None:
        results.append(requests.get(callback, cookies=binding, allow_redirects=False,
                                    timeout=20))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [302] + [400] * 7
    assert len(sandbox.requests(endpoint="token")) == 1


def test_replayed_code_fails_back_to_the_spa(broker, sandbox):
    browser, callback = _approved(broker.url)
    finish_login(browser, callback)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    # A fresh login in the same browser, but the attacker substitutes the old code.
    fresh = consent_redirect(browser, start_login(browser, broker.url))
    replay = finish_login(browser, _callback_with(fresh, code=code))
    assert replay.callback.status_code == 302
    assert replay.fragment["error"] == "login_failed"
    assert "access_token" not in replay.fragment


def test_tiktok_error_on_callback_goes_back_to_the_spa(broker, sandbox):
    browser, callback = _approved(broker.url)
    failed = finish_login(browser, _callback_with(callback, code=None, error="server_error",
                                                  error_description="boom"))
    assert failed.fragment == {"error": "tiktok_error",
                               "error_description": "TikTok could not complete the login."}


def test_tiktok_unreachable_during_exchange_goes_back_to_the_spa(broker, sandbox):
    browser, callback = _approved(broker.url)
    sandbox.fault("token", "status", status=503, times=1)
    failed = finish_login(browser, callback)
    assert failed.callback.status_code == 302
    assert failed.fragment["error"] == "tiktok_unavailable"
