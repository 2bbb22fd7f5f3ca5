"""Token and revoke endpoints (tiktok-api.md §2, §3)."""

from __future__ import annotations

import concurrent.futures


def test_exchange_returns_flat_token_body(tt):
    body = tt.login()
    assert set(body) == {"access_token", "expires_in", "open_id", "refresh_expires_in",
                         "refresh_token", "scope", "token_type"}
    assert body["access_token"].startswith("act.") and body["refresh_token"].startswith("rft.")
    assert body["expires_in"] == 7200 and body["refresh_expires_in"] == 15552000
    assert body["open_id"] == "-000alice" and body["token_type"] == "Bearer"
    assert body["scope"] == tt.all_scopes


def test_code_is_single_use(tt):
    code, verifier = tt.get_code()
    assert tt.exchange(code, verifier).status_code == 200
    again = tt.exchange(code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert set(again.json()) == {"error", "error_description", "log_id"}


def test_code_expires(tt, sandbox):
    code, verifier = tt.get_code()
    sandbox.advance_clock(601)
    assert tt.exchange(code, verifier).json()["error"] == "invalid_grant"


def test_code_ttl_is_configurable(tt, sandbox):
    sandbox.configure(code_ttl=30)
    code, verifier = tt.get_code()
    sandbox.advance_clock(31)
    assert tt.exchange(code, verifier).json()["error"] == "invalid_grant"


def test_verifier_is_checked(tt):
    code, _ = tt.get_code()
    resp = tt.exchange(code, "x" * 50)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"
    assert resp.json()["error_description"] == "Code verifier or code challenge is invalid."
    code, _ = tt.get_code()
    resp = tt.token(grant_type="authorization_code", code=code, redirect_uri=tt.redirect_uri)
    assert resp.json()["error"] == "invalid_request"


def test_redirect_uri_mismatch_is_invalid_request(tt):
    code, verifier = tt.get_code()
    resp = tt.token(grant_type="authorization_code", code=code, code_verifier=verifier,
                    redirect_uri=tt.redirect_uri + "/")
    assert resp.json()["error"] == "invalid_request"
    assert resp.json()["error_description"] == (
        "Redirect_uri is not matched with the uri when requesting code.")


def test_client_credentials_checked(tt):
    code, verifier = tt.get_code()
    bad = tt.http.post(f"{tt.url}/v2/oauth/token/", data={
        "client_id": tt.client_key, "client_secret": tt.client_secret, "code": code,
        "grant_type": "authorization_code", "redirect_uri": tt.redirect_uri,
        "code_verifier": verifier})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    wrong = tt.token(client_secret="nope", grant_type="authorization_code", code=code)
    assert wrong.json()["error"] == "invalid_client"
    missing = tt.token(client_secret="", grant_type="authorization_code", code=code)
    assert missing.json()["error_description"] == "Client secret is missed in request."
    assert tt.token(grant_type="password").json()["error"] == "unsupported_grant_type"


def test_strict_rotation_kills_old_refresh_token(tt):
    first = tt.login()
    second = tt.refresh(first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert body["open_id"] == "-000alice" and body["scope"] == tt.all_scopes
    reuse = tt.refresh(first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert tt.refresh(body["refresh_token"]).status_code == 200


def test_concurrent_refreshes_only_one_wins(tt):
    tokens = tt.login()
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: tt.refresh(tokens["refresh_token"]).status_code,
                                range(10)))
    assert sorted(results) == [200] + [400] * 9


def test_legacy_rotation_mode(tt, sandbox):
    sandbox.configure(rotation="legacy")
    first = tt.login()
    assert first["expires_in"] == 86400 and first["refresh_expires_in"] == 31536000
    body = tt.refresh(first["refresh_token"]).json()
    assert body["refresh_token"] == first["refresh_token"]
    assert tt.refresh(first["refresh_token"]).status_code == 200


def test_lifetimes_configurable_and_enforced(tt, sandbox):
    sandbox.configure(access_ttl=60, refresh_ttl=120)
    tokens = tt.login()
    assert (tokens["expires_in"], tokens["refresh_expires_in"]) == (60, 120)
    sandbox.advance_clock(61)
    assert tt.user_info(tokens, "open_id").json()["error"]["code"] == "access_token_invalid"
    refreshed = tt.refresh(tokens["refresh_token"]).json()
    assert refreshed["refresh_expires_in"] == 59  # fixed deadline by default
    sandbox.advance_clock(60)
    assert tt.refresh(refreshed["refresh_token"]).json()["error"] == "invalid_grant"


def test_sliding_refresh_deadline_switch(tt, sandbox):
    sandbox.configure(refresh_ttl=120, refresh_deadline="sliding")
    tokens = tt.login()
    sandbox.advance_clock(100)
    assert tt.refresh(tokens["refresh_token"]).json()["refresh_expires_in"] == 120


def test_errors_as_http_200_switch(tt, sandbox):
    sandbox.configure(errors_as_200=True)
    resp = tt.refresh("rft.unknown")
    assert resp.status_code == 200 and resp.json()["error"] == "invalid_grant"


def test_omit_refresh_token_switch(tt, sandbox):
    sandbox.configure(omit_refresh_token=True)
    body = tt.login()
    assert "refresh_token" not in body and body["access_token"]


def test_client_credentials_grant(tt):
    body = tt.token(grant_type="client_credentials").json()
    assert body["access_token"].startswith("clt.")
    assert body["expires_in"] == 7200 and "refresh_token" not in body and "open_id" not in body


def test_revoke_kills_access_and_refresh(tt):
    tokens = tt.login()
    other = tt.login(user="-000bob")
    resp = tt.revoke(tokens["access_token"])
    assert resp.status_code == 200 and resp.json() == {}
    assert tt.user_info(tokens, "open_id").status_code == 401
    assert tt.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert tt.user_info(other, "open_id").status_code == 200
    assert tt.revoke(tokens["access_token"]).json()["error"] == "invalid_grant"


def test_revoke_switches(tt, sandbox):
    tokens = tt.login()
    assert tt.revoke(tokens["refresh_token"]).status_code == 400  # docs: access token
    sandbox.configure(revoke_with="any", revoke_body="empty")
    resp = tt.revoke(tokens["refresh_token"])
    assert resp.status_code == 200 and resp.content == b""


def test_revoke_requires_client_auth(tt):
    tokens = tt.login()
    resp = tt.http.post(f"{tt.url}/v2/oauth/revoke/",
                        data={"client_key": tt.client_key, "token": tokens["access_token"]})
    assert resp.json()["error"] == "invalid_request"
