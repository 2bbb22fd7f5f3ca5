"""Sessions: refresh-cookie rotation and reuse detection, logout and revoke across replicas."""

from __future__ import annotations

import threading
import time

import requests

from tests.support.flows import login, refresh


def _me(broker_url: str, token: str) -> requests.Response:
    return requests.get(f"{broker_url}/api/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)


def test_refresh_rotates_the_cookie_and_issues_a_new_jwt(broker):
    result = login(broker.url)
    first_cookie = result.browser.cookies.get("broker_refresh")
    renewed = refresh(result.browser, broker.url)
    assert renewed.status_code == 200
    assert renewed.headers["Cache-Control"] == "no-store"
    body = renewed.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["access_token"] != result.access_token
    assert result.browser.cookies.get("broker_refresh") != first_cookie
    assert _me(broker.url, body["access_token"]).status_code == 200


def test_reuse_of_a_rotated_cookie_ends_the_session(broker_factory, redis_client):
    broker = broker_factory(REFRESH_GRACE_SECONDS="0")
    result = login(broker.url)
    stolen = result.browser.cookies.get("broker_refresh")
    assert refresh(result.browser, broker.url).status_code == 200
    replay = refresh(result.browser, broker.url, cookie=stolen)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_token"
    # The legitimate holder is logged out too, and the session's JWTs are refused.
    assert refresh(result.browser, broker.url).status_code == 401
    assert _me(broker.url, result.access_token).status_code == 401


def test_two_tabs_renewing_at_once_both_stay_signed_in(broker):
    """Within the grace window the just-rotated cookie gets the same successor, not a logout."""
    result = login(broker.url)
    cookie = result.browser.cookies.get("broker_refresh")
    answers: list[requests.Response] = []

    def tab() -> None:
        answers.append(refresh(requests.Session(), broker.url, cookie=cookie))

    tabs = [threading.Thread(target=tab) for _ in range(4)]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    successors = {a.cookies.get("broker_refresh") for a in answers}
    assert len(successors) == 1 and cookie not in successors
    (successor,) = successors
    assert refresh(requests.Session(), broker.url, cookie=successor).status_code == 200


def test_outside_the_grace_window_reuse_is_still_detected(broker_factory, redis_client):
    broker = broker_factory(REFRESH_GRACE_SECONDS="1")
    result = login(broker.url)
    stolen = result.browser.cookies.get("broker_refresh")
    assert refresh(result.browser, broker.url).status_code == 200
    time.sleep(1.5)
    assert refresh(requests.Session(), broker.url, cookie=stolen).status_code == 401
    assert refresh(result.browser, broker.url).status_code == 401  # the session ended


def test_a_successor_cookie_that_rotated_again_is_not_handed_out(broker):
    """Only the cookie rotated last has a grace window: older ones are reuse."""
    result = login(broker.url)
    first = result.browser.cookies.get("broker_refresh")
    assert refresh(result.browser, broker.url).status_code == 200
    assert refresh(result.browser, broker.url).status_code == 200
    assert refresh(requests.Session(), broker.url, cookie=first).status_code == 401


def test_refresh_needs_an_allowed_origin(broker):
    result = login(broker.url)
    for origin in ("https://evil.example", "null", ""):
        response = refresh(result.browser, broker.url, origin=origin)
        assert response.status_code == 403, origin
        assert response.json()["error"] == "origin_not_allowed"


def test_refresh_without_cookie_is_a_bare_challenge(broker):
    response = requests.post(f"{broker.url}/auth/refresh",
                             headers={"Origin": "http://127.0.0.1:5173"}, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    garbage = refresh(requests.Session(), broker.url, cookie="nonsense.value")
    assert garbage.status_code == 401


def test_logout_ends_the_session_on_every_replica(broker_factory, redis_client):
    first = broker_factory(fresh=True)
    second = broker_factory(fresh=True)
    result = login(first.url)
    assert _me(second.url, result.access_token).status_code == 200
    out = requests.post(f"{first.url}/logout", headers=result.bearer(), timeout=10)
    assert out.status_code == 204
    assert "broker_refresh=;" in out.headers["Set-Cookie"]
    refused = _me(second.url, result.access_token)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert refresh(result.browser, second.url).status_code == 401


def test_logout_keeps_the_users_other_sessions(broker, redis_client):
    phone, laptop = login(broker.url), login(broker.url)
    requests.post(f"{broker.url}/logout", headers=phone.bearer(), timeout=10)
    assert _me(broker.url, laptop.access_token).status_code == 200
    assert redis_client.exists("tb:grant:-000alice")
    requests.post(f"{broker.url}/logout", headers=laptop.bearer(), timeout=10)
    assert not redis_client.exists("tb:grant:-000alice")  # the last logout drops the tokens


def test_logout_with_revoke_ends_all_sessions_and_revokes_at_tiktok(broker, sandbox,
                                                                    redis_client):
    phone, laptop = login(broker.url), login(broker.url)
    out = requests.post(f"{broker.url}/logout?revoke=true", headers=phone.bearer(), timeout=10)
    assert out.status_code == 204
    assert len(sandbox.requests(endpoint="revoke")) == 1
    assert _me(broker.url, laptop.access_token).status_code == 401
    assert redis_client.keys("tb:grant:*") == []
    assert redis_client.keys("tb:{*}:sess:*") == []


def test_revoke_failure_at_tiktok_still_logs_out_locally(broker, sandbox, redis_client):
    result = login(broker.url)
    sandbox.fault("revoke", "status", status=503)
    out = requests.post(f"{broker.url}/logout?revoke=true", headers=result.bearer(), timeout=30)
    assert out.status_code == 204
    assert len(sandbox.requests(endpoint="revoke")) == 3  # bounded retries
    assert redis_client.keys("tb:grant:*") == []
    assert _me(broker.url, result.access_token).status_code == 401
    assert "TikTok revoke failed" in broker.log_text()


def test_logout_rejects_a_bad_revoke_flag_and_needs_a_token(broker):
    result = login(broker.url)
    bad = requests.post(f"{broker.url}/logout?revoke=maybe", headers=result.bearer(), timeout=10)
    assert bad.status_code == 400
    anonymous = requests.post(f"{broker.url}/logout", timeout=10)
    assert anonymous.status_code == 401


def test_me_after_tiktok_token_expired_refreshes_once(broker_factory, sandbox, redis_client):
    broker = broker_factory(PROFILE_CACHE_TTL="0")
    result = login(broker.url)
    sandbox.expire_token("-000alice")
    sandbox.reset_log()
    assert _me(broker.url, result.access_token).status_code == 200
    assert len(sandbox.requests(endpoint="token", grant_type="refresh_token")) == 1
    assert _me(broker.url, result.access_token).status_code == 200
    assert len(sandbox.requests(endpoint="token", grant_type="refresh_token")) == 1


def test_lost_grant_at_tiktok_means_reauth_and_ends_sessions(broker_factory, sandbox,
                                                             redis_client):
    broker = broker_factory(PROFILE_CACHE_TTL="0")
    result = login(broker.url)
    webhook_url = sandbox.config()["webhook_url"]
    sandbox.configure(webhook_url="")  # only the refresh path may notice, not a webhook
    try:
        sandbox.disconnect("-000alice")  # TikTok revokes access and refresh tokens
        response = _me(broker.url, result.access_token)
    finally:
        sandbox.configure(webhook_url=webhook_url)
    assert response.status_code == 401
    assert response.json()["error"] == "reauth_required"
    assert _me(broker.url, result.access_token).json()["error"] == "invalid_token"
    assert redis_client.keys("tb:{*}:sess:*") == []


def test_a_new_login_in_the_same_browser_ends_the_session_it_replaces(broker, redis_client):
    first = login(broker.url, user="-000alice")
    old_cookie = first.browser.cookies.get("broker_refresh")
    second = login(broker.url, user="-000bob", browser=first.browser)  # same browser, re-auth
    assert second.fragment.get("access_token")
    assert _me(broker.url, first.access_token).status_code == 401
    assert refresh(requests.Session(), broker.url, cookie=old_cookie).status_code == 401
    assert not redis_client.exists("tb:grant:-000alice")  # nobody is left to use it
    assert _me(broker.url, second.access_token).status_code == 200


def test_a_relogin_of_the_same_user_keeps_the_grant(broker, redis_client):
    first = login(broker.url, user="-000alice")
    again = login(broker.url, user="-000alice", browser=first.browser)
    assert _me(broker.url, first.access_token).status_code == 401
    assert _me(broker.url, again.access_token).status_code == 200
    assert redis_client.exists("tb:grant:-000alice")
