"""Login through the broker and the sandbox, as a browser does it, in both delivery modes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import requests

from tests.support.flows import (
    consent_redirect,
    finish_login,
    login,
    start_login,
)


def test_fragment_login_gives_a_broker_jwt_and_never_tiktoks_token(broker, sandbox):
    result = login(broker.url)

    assert result.callback.status_code == 302
    location = result.callback.headers["Location"]
    assert location.startswith("http://127.0.0.1:5173/#")
    assert urlsplit(location).query == ""
    assert result.fragment["token_type"] == "Bearer"
    assert result.fragment["expires_in"] == "900"
    claims = jwt.decode(result.access_token, options={"verify_signature": False})
    assert claims["sub"] == "-000alice"
    assert claims["aud"] == "tiktok-broker"
    assert set(claims["scope"].split()) == {"user.info.basic", "user.info.profile",
                                            "video.publish", "video.upload"}
    assert jwt.get_unverified_header(result.access_token)["kid"]
    issued = sandbox.issued()
    assert not any(token in location for token in issued["access_tokens"])
    me = requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=10)
    assert me.status_code == 200
    assert me.json()["display_name"] == "Alice (public)"


def test_login_request_follows_tiktoks_quirks(broker, sandbox):
    browser = requests.Session()
    started = start_login(browser, broker.url)
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["client_key"] == ["sbawdevclientkey"]
    assert "client_id" not in query and "client_secret" not in query
    assert query["scope"] == ["user.info.basic,user.info.profile,video.publish,video.upload"]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 64
    int(query["code_challenge"][0], 16)  # hex, TikTok's encoding
    finish_login(browser, consent_redirect(browser, started))
    [token_call] = sandbox.requests(endpoint="token", grant_type="authorization_code")
    assert token_call["status"] == 200


def test_refresh_cookie_is_httponly_path_scoped_and_lax(broker):
    result = login(broker.url)
    header = result.callback.headers["Set-Cookie"]
    refresh_cookie = next(part for part in result.callback.raw.headers.getlist("Set-Cookie")
                          if part.startswith("broker_refresh="))
    assert "HttpOnly" in refresh_cookie
    assert "Path=/auth" in refresh_cookie
    assert "SameSite=Lax" in refresh_cookie
    assert "Secure" not in refresh_cookie  # http in development; https brokers set Secure
    # The binding stays for logins still under way in other tabs (it expires with STATE_TTL).
    assert "broker_login=;" not in header


def test_handoff_login_trades_a_one_time_code(broker_factory, redis_client):
    broker = broker_factory(SPA_TOKEN_DELIVERY="handoff")
    result = login(broker.url)
    assert set(result.fragment) == {"login_code"}
    assert "broker_refresh=" in result.callback.headers["Set-Cookie"]
    code = result.fragment["login_code"]

    traded = result.browser.post(f"{broker.url}/auth/session", json={"login_code": code},
                                 timeout=10)  # the browser that finished the login
    assert traded.status_code == 200
    assert traded.headers["Cache-Control"] == "no-store"
    body = traded.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    me = requests.get(f"{broker.url}/api/me",
                      headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert me.status_code == 200

    again = result.browser.post(f"{broker.url}/auth/session", json={"login_code": code},
                                timeout=10)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_login_code_in_a_link_signs_no_other_browser_in(broker_factory, redis_client):
    """Login CSRF: the attacker's own login code, redeemed by the victim's browser, fails."""
    broker = broker_factory(SPA_TOKEN_DELIVERY="handoff")
    attacker = login(broker.url, user="-000bob")
    victim = requests.Session()
    victim_own = login(broker.url, browser=requests.Session())  # a browser with a session
    for browser in (victim, victim_own.browser):
        answer = browser.post(f"{broker.url}/auth/session",
                              json={"login_code": attacker.fragment["login_code"]}, timeout=10)
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
    # the code was used up by the attempt: the attacker's link is dead too
    burned = attacker.browser.post(f"{broker.url}/auth/session",
                                   json={"login_code": attacker.fragment["login_code"]},
                                   timeout=10)
    assert burned.status_code == 400


def test_the_spas_nonce_comes_back_in_the_fragment(broker, sandbox):
    nonce = "n0nce-from-the-spa-0123456789"
    assert login(broker.url, nonce=nonce).fragment["nonce"] == nonce
    declined = login(broker.url, nonce=nonce, decision="deny")
    assert declined.fragment["error"] == "access_denied" and declined.fragment["nonce"] == nonce
    assert "nonce" not in login(broker.url).fragment
    bad = requests.get(f"{broker.url}/login", params={"nonce": "short"}, allow_redirects=False,
                       timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_nonce"


def test_handoff_rejects_malformed_bodies(broker_factory, redis_client):
    broker = broker_factory(SPA_TOKEN_DELIVERY="handoff")
    for body in (None, "login_code", {"login_code": 5}, {"other": "x"}, []):
        response = requests.post(f"{broker.url}/auth/session", json=body, timeout=10)
        assert response.status_code == 400, body
        assert response.json()["error"] in ("invalid_request", "invalid_grant")


def test_declined_consent_returns_to_the_spa_with_an_error(broker, sandbox):
    result = login(broker.url, decision="deny")
    assert result.callback.status_code == 302
    assert result.fragment["error"] == "access_denied"
    assert "access_token" not in result.fragment
    assert sandbox.requests(endpoint="token") == []


def test_redirect_to_path_and_allowed_origin(broker):
    by_path = login(broker.url, redirect_to="/posts?tab=new")
    assert by_path.callback.headers["Location"].startswith("http://127.0.0.1:5173/posts?tab=new#")
    absolute = login(broker.url, redirect_to="http://127.0.0.1:5173/done")
    assert absolute.callback.headers["Location"].startswith("http://127.0.0.1:5173/done#")


def test_tricky_redirect_targets_are_refused_before_tiktok(broker, sandbox):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example",
                   "http://127.0.0.1:5173@evil.example/", "javascript:alert(1)",
                   "http://127.0.0.1:5174/", "/ok\r\nSet-Cookie: x=1"):
        response = requests.get(f"{broker.url}/login", params={"redirect_to": target},
                                allow_redirects=False, timeout=10)
        assert response.status_code == 400, target
        assert response.json()["error"] == "invalid_redirect"
    assert sandbox.requests(endpoint="authorize") == []


def test_extra_scopes_are_asked_for(broker):
    browser = requests.Session()
    started = start_login(browser, broker.url, scope="user.info.stats")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["scope"][0].endswith(",user.info.stats")
    bad = start_login(requests.Session(), broker.url, scope="user.info.basic;drop")
    assert bad.status_code == 400


def test_user_can_untick_scopes_and_the_jwt_says_so(broker):
    result = login(broker.url, scopes=["user.info.basic"])
    claims = jwt.decode(result.access_token, options={"verify_signature": False})
    assert claims["scope"] == "user.info.basic"
    me = requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=10).json()
    assert "username" not in me and me["open_id"] == "-000alice"
    denied = requests.get(f"{broker.url}/api/me", params={"fields": "username"},
                          headers=result.bearer(), timeout=10)
    assert denied.status_code == 403
    assert denied.json()["error"] == "scope_not_granted"
