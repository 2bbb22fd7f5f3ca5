"""Authorize page and consent form (tiktok-api.md §1)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
import requests

from tests.support.consent import read_form


@pytest.mark.parametrize(("override", "bad"), [
    ({"client_key": "wrong-key"}, "client_key"),
    ({"client_key": ""}, "client_key"),
    ({"redirect_uri": "http://localhost:8000/auth/callback/"}, "redirect_uri"),  # trailing slash
    ({"redirect_uri": "http://evil.example/cb"}, "redirect_uri"),
    ({"response_type": "token"}, "response_type"),
    ({"scope": "user.info.basic video.publish"}, "scope"),  # space-separated is wrong
    ({"scope": "user.info.basic,no.such.scope"}, "scope"),
    ({"scope": ""}, "scope"),
    ({"code_challenge": ""}, "code_challenge"),
    ({"code_challenge": "abc"}, "code_challenge"),
    ({"code_challenge_method": "plain"}, "code_challenge_method"),
])
def test_invalid_request_gets_html_error_page_naming_param(tt, override, bad):
    resp = tt.http.get(tt.authorize_url(**override), allow_redirects=False)
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")
    assert re.search(rf'class="bad-param">{re.escape(bad)}<', resp.text)


def test_client_id_instead_of_client_key_is_rejected(tt):
    url = tt.authorize_url(client_key="").replace("?", f"?client_id={tt.client_key}&", 1)
    resp = tt.http.get(url, allow_redirects=False)
    assert resp.status_code == 400 and "client_key" in resp.text


def test_base64url_challenge_rejected_by_default_and_accepted_by_switch(tt, sandbox):
    verifier = "v" * 50
    b64 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    url = tt.authorize_url(code_challenge=b64.decode())
    assert tt.http.get(url).status_code == 400
    sandbox.configure(pkce_base64url="accept")
    params = tt.callback(tt.consent(url))
    assert tt.exchange(params["code"], verifier).status_code == 200


def test_consent_page_is_a_plain_form(tt):
    resp = tt.http.get(tt.authorize_url())
    assert resp.status_code == 200
    form = read_form(resp.text)
    assert form.method == "post"
    assert [v for v, _ in form.selects["user"]] == ["-000alice", "-000bob", "-000carol",
                                                      "-000dave"]
    assert form.selects["user"][0][1] is True  # first preselected
    assert [(n, v, c) for n, v, c in form.checkboxes] == [
        ("scope", s, True) for s in tt.all_scopes.split(",")]
    assert ("decision", "approve") in form.buttons and ("decision", "deny") in form.buttons
    hidden = dict(form.hidden)
    assert hidden["client_key"] == tt.client_key and hidden["state"] == "st-123"
    assert "<script" not in resp.text.lower()


def test_approve_redirects_with_code_scopes_state(tt):
    params = tt.callback(tt.consent(tt.authorize_url()))
    assert set(params) == {"code", "scopes", "state"}
    assert params["scopes"] == tt.all_scopes
    assert params["state"] == "st-123"
    # §1.3: real codes carry *, ! and . so clients must URL-encode them.
    assert {"*", "!", "."} <= set(params["code"])


def test_unticked_scopes_are_not_granted(tt):
    resp = tt.consent(tt.authorize_url(), scopes=["user.info.basic", "video.upload"])
    params = tt.callback(resp)
    assert params["scopes"] == "user.info.basic,video.upload"


def test_deny_redirects_with_access_denied(tt):
    params = tt.callback(tt.consent(tt.authorize_url(), decision="deny"))
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert "code" not in params and params["error_description"]


def test_tampered_post_cannot_add_scopes(tt):
    page = tt.http.get(tt.authorize_url(scope="user.info.basic"))
    form = read_form(page.text)
    data = [*form.hidden, ("user", "-000alice"), ("scope", "video.publish"),
            ("decision", "approve")]
    resp = tt.http.post(f"{tt.url}/v2/auth/authorize/", data=data, allow_redirects=False)
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_pkce_optional_switch(tt, sandbox):
    url = tt.authorize_url(code_challenge="", code_challenge_method="")
    assert tt.http.get(url).status_code == 400
    sandbox.configure(pkce="optional")
    code = tt.callback(tt.consent(url))["code"]
    resp = tt.token(grant_type="authorization_code", code=code, redirect_uri=tt.redirect_uri)
    assert resp.status_code == 200 and resp.json()["access_token"].startswith("act.")


def test_each_user_can_be_chosen(tt):
    for user in ("-000bob", "-000carol", "-000dave"):
        tokens = tt.login(user=user)
        assert tokens["open_id"] == user


def test_auto_auth_skips_the_page_unless_disable_auto_auth_is_1(tt, sandbox):
    """§1.1: a browser signed in to TikTok skips consent (and the account choice) unless
    disable_auto_auth=1; with the switch off (the default) the page is always shown."""
    tt.consent(tt.authorize_url(), user="-000bob")  # signs this browser in as bob
    assert tt.http.get(tt.authorize_url(), allow_redirects=False).status_code == 200
    sandbox.configure(auto_auth=True)
    skipped = tt.callback(tt.http.get(tt.authorize_url(), allow_redirects=False))
    assert skipped["state"] == "st-123" and skipped["scopes"] == tt.all_scopes
    assert tt.exchange(skipped["code"], "x").status_code != 500
    shown = tt.http.get(tt.authorize_url(disable_auto_auth="1"), allow_redirects=False)
    assert shown.status_code == 200 and read_form(shown.text).selects["user"]
    other = tt.callback(tt.consent(tt.authorize_url(disable_auto_auth="1"), user="-000carol"))
    assert "code" in other
    fresh = requests.Session()  # a browser never signed in always sees the page
    assert fresh.get(tt.authorize_url(), allow_redirects=False).status_code == 200
