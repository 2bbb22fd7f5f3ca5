"""Login, token handling, renewal and logout in a real browser against the three real servers."""

from __future__ import annotations

import time
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import JWT_TTL, Stack
from tests.support.browser import assert_token_nowhere_in_page, bearer_tokens, consent, login


def test_login_shows_profile_and_keeps_the_jwt_out_of_the_url(page: Any, stack: Stack) -> None:
    page.goto(stack.spa.url + "/")
    expect(page.get_by_test_id("session-state")).to_have_text("Not signed in")
    page.get_by_test_id("login").click()
    consent(page, user="-000alice")
    page.wait_for_url(stack.spa.url + "/")

    expect(page.get_by_test_id("display-name")).to_have_text("Alice (public)")
    expect(page.get_by_test_id("open-id")).to_have_text("-000alice")
    expect(page.get_by_test_id("union-id")).not_to_be_empty()
    avatar = page.get_by_test_id("avatar")
    expect(avatar).to_be_visible()
    assert page.evaluate("el => el.complete && el.naturalWidth > 0", avatar.element_handle())

    assert page.url == stack.spa.url + "/"
    [token] = bearer_tokens(page)
    assert token.count(".") == 2  # a JWT went to /api/me as the bearer
    assert_token_nowhere_in_page(page, token)
    # The back button does not lead to the URL that carried the token either.
    assert page.evaluate("history.length") >= 1
    assert "access_token" not in page.evaluate("document.referrer")


def test_declined_consent_shows_an_error(page: Any, stack: Stack) -> None:
    page.goto(stack.spa.url + "/")
    page.get_by_test_id("login").click()
    consent(page, user="-000alice", decision="deny")
    page.wait_for_url(stack.spa.url + "/")

    error = page.get_by_test_id("login-error")
    expect(error).to_contain_text("Login failed")
    expect(error).to_contain_text("declined")
    expect(error).to_contain_text("access_denied")
    expect(page.get_by_test_id("session-state")).to_have_text("Not signed in")
    expect(page.get_by_test_id("login")).to_be_visible()
    assert "#" not in page.url and "error" not in page.url
    assert page.log.broker_calls("/api/") == []


def test_reload_resumes_the_session_from_the_refresh_cookie(page: Any, stack: Stack) -> None:
    login(page, stack.spa.url, user="-000bob")
    [first] = bearer_tokens(page)
    # The first page load, before login, asked once and found no session.
    assert [c["status"] for c in page.log.broker_calls("/auth/refresh")] == [401]
    page.reload()
    expect(page.get_by_test_id("display-name")).to_have_text("Bob (private)")
    refreshes = page.log.broker_calls("/auth/refresh")
    assert [c["status"] for c in refreshes] == [401, 200]
    assert len(page.log.broker_calls("/login")) == 1  # no second login
    second = bearer_tokens(page)[-1]
    assert second != first


def test_handoff_delivery_logs_in_with_a_one_time_code(context: Any, handoff_stack: Stack) -> None:
    page = context.new_page()
    origin = handoff_stack.broker_url
    calls: list[tuple[str, str, int]] = []
    page.on("response", lambda r: calls.append((r.request.method, r.url, r.status)))
    page.goto(handoff_stack.spa.url + "/")
    page.get_by_test_id("login").click()
    consent(page, user="-000alice")
    page.wait_for_url(handoff_stack.spa.url + "/")
    expect(page.get_by_test_id("display-name")).to_have_text("Alice (public)")
    assert ("POST", f"{origin}/auth/session", 200) in calls
    callback = [u for m, u, s in calls if u.startswith(f"{origin}/auth/callback")]
    assert callback, "the login went through this broker"
    assert "#" not in page.url and "login_code" not in page.url


def test_jwt_is_renewed_after_it_expires_without_a_new_login(context: Any, page: Any,
                                                             stack: Stack) -> None:
    # Control the page's clock so its renewal timer cannot fire while the JWT expires for real.
    page.clock.install()
    login(page, stack.spa.url, user="-000alice")
    [expired] = bearer_tokens(page)
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # seconds in the Python API
    # Wait (real time) until the broker refuses the JWT: its TTL plus the broker's small leeway.
    deadline = time.monotonic() + JWT_TTL + 20
    while requests.get(f"{stack.broker.url}/api/me", timeout=5,
                       headers={"Authorization": f"Bearer {expired}"}).status_code != 401:
        assert time.monotonic() < deadline, "the JWT never expired"
        time.sleep(1)

    # 1. After a 401: the SPA renews through /auth/refresh and retries, with no new login.
    with page.expect_response(lambda r: r.url.endswith("/api/me") and r.status == 200):
        page.get_by_test_id("reload-profile").click()
    expect(page.get_by_test_id("display-name")).to_have_text("Alice (public)")
    me_calls = page.log.broker_calls("/api/me")
    assert [c["status"] for c in me_calls[-2:]] == [401, 200]
    assert me_calls[-2]["authorization"] == f"Bearer {expired}"
    renewed = me_calls[-1]["authorization"][7:]
    assert renewed != expired
    assert [c["status"] for c in page.log.broker_calls("/auth/refresh")] == [401, 200]
    assert len(page.log.broker_calls("/login")) == 1
    expect(page.get_by_test_id("profile-error")).to_have_count(0)

    # 2. Before expiry: the renewal timer fires by itself (20 % of the TTL before it runs out).
    page.clock.resume()
    page.clock.fast_forward(int(JWT_TTL * 0.8 * 1000) + 500)
    deadline = time.monotonic() + 10
    while len(page.log.broker_calls("/auth/refresh")) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert [c["status"] for c in page.log.broker_calls("/auth/refresh")] == [401, 200, 200]
    with page.expect_response(lambda r: r.url.endswith("/api/me") and r.status == 200):
        page.get_by_test_id("reload-profile").click()
    expect(page.get_by_test_id("display-name")).to_have_text("Alice (public)")
    latest = bearer_tokens(page)[-1]
    assert latest not in (expired, renewed)
    assert len(page.log.broker_calls("/login")) == 1


def test_logout_ends_access(page: Any, stack: Stack) -> None:
    login(page, stack.spa.url, user="-000alice")
    [token] = bearer_tokens(page)
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("notice")).to_have_text("You are logged out.")
    expect(page.get_by_test_id("session-state")).to_have_text("Not signed in")
    [logout] = page.log.broker_calls("/logout")
    assert (logout["method"], logout["status"]) == ("POST", 204)
    assert logout["authorization"] == f"Bearer {token}"

    # The old JWT is refused everywhere, and the refresh cookie no longer opens a session.
    resp = requests.get(f"{stack.broker.url}/api/me", timeout=5,
                        headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    page.reload()
    expect(page.get_by_test_id("login")).to_be_visible()
    expect(page.get_by_test_id("session-state")).to_have_text("Not signed in")
    assert all(c["status"] != 200 for c in page.log.broker_calls("/auth/refresh"))


def test_disconnect_revokes_the_grant_at_tiktok(page: Any, stack: Stack,
                                                tiktok_sandbox: Any) -> None:
    # dave: no app user of the demo app holds his account (that would keep the grant alive)
    login(page, stack.spa.url, user="-000dave")
    [token] = bearer_tokens(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("disconnect").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Disconnected")
    [logout] = page.log.broker_calls("/logout")
    assert (logout["path"], logout["status"]) == ("/logout?revoke=true", 204)
    assert tiktok_sandbox.requests(endpoint="revoke"), "the broker revoked the grant at TikTok"
    resp = requests.get(f"{stack.broker.url}/api/me", timeout=5,
                        headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401


def test_two_tabs_renewing_at_once_keep_the_session(context: Any, stack: Stack) -> None:
    # The refresh cookie rotates on every use and reuse of an old one ends the session; the SPA
    # orders its tabs' renewals with a Web Lock so that both tabs keep working.
    refreshes: list[int] = []
    context.on("response", lambda r: r.url == f"{stack.broker_url}/auth/refresh"
               and refreshes.append(r.status))
    context.clock.install()
    first = context.new_page()
    login(first, stack.spa.url, user="-000alice")
    second = context.new_page()
    second.goto(stack.spa.url + "/")  # resumes the session from the shared cookie
    expect(second.get_by_test_id("display-name")).to_have_text("Alice (public)")
    assert refreshes == [401, 200]

    # Both tabs' renewal timers come due at the same moment.
    context.clock.fast_forward(int(JWT_TTL * 0.8 * 1000) + 1000)
    deadline = time.monotonic() + 15
    while len(refreshes) < 4 and time.monotonic() < deadline:
        first.wait_for_timeout(100)
    assert refreshes == [401, 200, 200, 200]
    for tab in (first, second):
        with tab.expect_response(lambda r: r.url.endswith("/api/me") and r.status == 200):
            tab.get_by_test_id("reload-profile").click()
        expect(tab.get_by_test_id("session-state")).to_contain_text("Signed in")
