"""Connect links end to end over real HTTP (gunicorn, Redis, the sandbox's consent page): the
account linked to the app user, TikTok's account choice always shown, and the link protected
like a login (single use, expiry, bound to the browser, return_to judged like redirect_to)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support.flows import login
from tests.support.service import (
    connect,
    connect_link,
    consent_and_return,
    create_key,
    open_link,
    service,
)

SPA = "http://127.0.0.1:5173"


def _accounts(broker, key, app_user_id):
    answer = requests.get(f"{broker.url}/service/users/{app_user_id}/accounts",
                          headers=service(key), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["accounts"]


def test_connect_links_the_account_and_signs_nobody_in(broker, sandbox, redis_client):
    key = create_key(broker)
    link = connect_link(broker, key, "user-1", return_to="/settings/tiktok")
    assert link.status_code == 201 and 0 < link.json()["expires_in"] <= 600
    token = parse_qs(urlsplit(link.json()["connect_url"]).query)["connect_token"][0]
    assert link.json()["connect_url"].startswith(f"{broker.url}/service/connect?")
    assert all(token not in k for k in redis_client.keys("*"))
    browser = requests.Session()
    opened = open_link(browser, link.json()["connect_url"])
    authorize = parse_qs(urlsplit(opened.headers["Location"]).query)
    assert authorize["disable_auto_auth"] == ["1"]  # TikTok's account choice, always (§1.1)
    assert authorize["code_challenge_method"] == ["S256"] and authorize["state"]
    done = consent_and_return(browser, opened, user="-000bob")
    location = done.callback.headers["Location"]
    assert location == f"{SPA}/settings/tiktok#connected=-000bob"
    assert "broker_refresh" not in done.callback.headers.get("Set-Cookie", "")
    [account] = _accounts(broker, key, "user-1")
    assert account["account_id"] == "-000bob" and account["status"] == "active"
    assert account["display_name"] and "video.publish" in account["scopes"]
    assert redis_client.keys("tb:{*}:sess:*") == []  # no login session was made


def test_a_link_works_once(broker, sandbox):
    key = create_key(broker)
    url = connect_link(broker, key, "user-1").json()["connect_url"]
    assert open_link(requests.Session(), url).status_code == 302
    replay = open_link(requests.Session(), url)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_connect_session"
    assert open_link(requests.Session(), url.replace("connect_token=", "connect_token=x")
                     ).json()["error"] == "invalid_connect_session"


def test_an_expired_link_is_refused(broker, sandbox, redis_client):
    key = create_key(broker)
    url = connect_link(broker, key, "user-1").json()["connect_url"]
    [stored] = redis_client.keys("tb:connect:*")
    assert 0 < redis_client.ttl(stored) <= 600
    redis_client.pexpire(stored, 1)  # its time is up
    time.sleep(0.1)
    answer = open_link(requests.Session(), url)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_connect_session"


def test_a_link_opened_in_one_browser_cannot_finish_in_another(broker, sandbox):
    key = create_key(broker)
    victim, attacker = requests.Session(), requests.Session()
    url = connect_link(broker, key, "victim").json()["connect_url"]
    opened = open_link(attacker, url)  # the attacker opens the victim's link
    done = consent_and_return(victim, opened, user="-000carol")  # ...the victim's browser ends it
    assert done.callback.status_code == 400
    assert done.callback.json()["error"] == "invalid_state"
    assert _accounts(broker, key, "victim") == []


@pytest.mark.parametrize("return_to", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "https://127.0.0.1:5173@evil.example/", "http://127.0.0.1:5173.evil.example/",
    "javascript:alert(1)", "http://127.0.0.1:5174/", "/ok\r\nLocation: https://evil.example",
    "https://[evil/", "HTTP://evil.example", "/\u00e9",
])
def test_return_to_off_the_allowed_origins_is_refused_when_the_link_is_made(broker, return_to):
    key = create_key(broker)
    answer = connect_link(broker, key, "user-1", return_to=return_to)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_return_to"


@pytest.mark.parametrize("app_user_id", ["", "a b", "x" * 129, "caf\u00e9", "tab\t"])
def test_bad_app_user_ids_are_refused(broker, app_user_id):
    answer = connect_link(broker, create_key(broker), app_user_id)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_app_user_id"


def test_declined_consent_goes_back_with_an_error(broker, sandbox):
    key = create_key(broker)
    browser = requests.Session()
    opened = open_link(browser, connect_link(broker, key, "user-1").json()["connect_url"])
    done = consent_and_return(browser, opened, user="-000bob", decision="deny")
    assert done.fragment["error"] == "access_denied" and "connected" not in done.fragment
    assert _accounts(broker, key, "user-1") == []


def test_two_accounts_for_one_app_user_even_in_a_browser_signed_in_to_tiktok(broker, sandbox):
    """"Add another account": the browser is signed in to TikTok as bob, and TikTok would skip
    its page (auto auth), but the connect asks for the account choice every time."""
    sandbox.configure(auto_auth=True)
    try:
        key, browser = create_key(broker), requests.Session()
        first = connect(broker, key, "user-1", "-000bob", browser=browser)
        second = connect(broker, key, "user-1", "-000carol", browser=browser)
    finally:
        sandbox.configure(auto_auth=False)
    assert (first.account_id, second.account_id) == ("-000bob", "-000carol")
    assert [a["account_id"] for a in _accounts(broker, key, "user-1")] == ["-000bob",
                                                                           "-000carol"]


def test_one_account_for_two_app_users_unlinked_one_at_a_time(broker, sandbox, redis_client):
    key = create_key(broker)
    connect(broker, key, "user-1", "-000bob")
    connect(broker, key, "user-2", "-000bob")
    unlink = f"{broker.url}/service/users/user-1/accounts/-000bob?revoke=true"
    assert requests.delete(unlink, headers=service(key), timeout=10).status_code == 204
    assert _accounts(broker, key, "user-1") == []
    assert [a["account_id"] for a in _accounts(broker, key, "user-2")] == ["-000bob"]
    assert redis_client.exists("tb:grant:-000bob")  # user-2 still holds it: nothing revoked
    assert sandbox.requests(endpoint="revoke") == []
    me = requests.get(f"{broker.url}/api/me", headers=service(key, "-000bob"), timeout=10)
    assert me.status_code == 200 and me.json()["open_id"] == "-000bob"
    again = requests.delete(unlink, headers=service(key), timeout=10)
    assert again.status_code == 404 and again.json()["error"] == "unknown_account"
    last = f"{broker.url}/service/users/user-2/accounts/-000bob?revoke=true"
    assert requests.delete(last, headers=service(key), timeout=10).status_code == 204
    assert not redis_client.exists("tb:grant:-000bob")  # nothing holds it: tokens deleted
    assert len(sandbox.requests(endpoint="revoke")) == 1
    gone = requests.get(f"{broker.url}/api/me", headers=service(key, "-000bob"), timeout=10)
    assert gone.status_code == 404 and gone.json()["error"] == "unknown_account"


def test_a_login_session_holds_the_account_too(broker, sandbox, redis_client):
    key = create_key(broker)
    signed_in = login(broker.url, user="-000bob")
    connect(broker, key, "user-1", "-000bob")
    url = f"{broker.url}/service/users/user-1/accounts/-000bob?revoke=true"
    assert requests.delete(url, headers=service(key), timeout=10).status_code == 204
    assert redis_client.exists("tb:grant:-000bob") and sandbox.requests(endpoint="revoke") == []
    me = requests.get(f"{broker.url}/api/me", headers=signed_in.bearer(), timeout=10)
    assert me.status_code == 200
    # and the other way round: a logout keeps the tokens an app user still holds
    connect(broker, key, "user-1", "-000bob")
    out = requests.post(f"{broker.url}/logout?revoke=true", headers=signed_in.bearer(),
                        timeout=10)
    assert out.status_code == 204 and sandbox.requests(endpoint="revoke") == []
    assert requests.get(f"{broker.url}/api/me", headers=service(key, "-000bob"),
                        timeout=10).status_code == 200
