"""Login CSRF and parallel logins in a real browser: a link carrying someone else's token or
login code signs nobody in, and logins started in two tabs both complete."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.browser import consent
from tests.support.flows import login as login_over_http
from tests.support.spa import Stack


def test_a_link_with_an_attackers_token_signs_nobody_in(page: Any, stack: Stack) -> None:
    attacker = login_over_http(stack.broker_url, user="-000bob")  # the attacker's own login
    token = attacker.fragment["access_token"]
    page.goto(f"{stack.spa.url}/#access_token={token}&token_type=Bearer&expires_in=900")
    expect(page.get_by_test_id("session-state")).to_have_text("Not signed in")
    assert "#" not in page.url  # cleared, and ignored
    assert not any(call["authorization"] == f"Bearer {token}"
                   for call in page.log.broker_calls("/api/"))


def test_a_link_with_a_forged_nonce_is_ignored_too(page: Any, stack: Stack) -> None:
    attacker = login_over_http(stack.broker_url, user="-000bob", nonce="attacker-chosen-nonce-1")
    fragment = "&".join(f"{k}={v}" for k, v in attacker.fragment.items())
    page.goto(f"{stack.spa.url}/#{fragment}")
    expect(page.get_by_test_id("session-state")).to_have_text("Not signed in")
    assert page.log.broker_calls("/api/") == []


def test_logins_started_in_two_tabs_both_complete(page: Any, context: Any, stack: Stack) -> None:
    other = context.new_page()
    for tab in (page, other):
        tab.goto(stack.spa.url + "/")
        tab.get_by_test_id("login").click()
        tab.wait_for_url("**/v2/auth/authorize/**")
    consent(other, user="-000bob")  # the tab started last finishes first
    consent(page, user="-000bob")
    for tab in (other, page):
        tab.wait_for_url(stack.spa.url + "/")
        expect(tab.get_by_test_id("display-name")).to_have_text("Bob (private)")
    assert not page.get_by_test_id("login-error").is_visible()
