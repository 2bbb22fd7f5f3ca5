"""Browser steps shared by the e2e tests: log in through the sandbox consent page, etc."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

USERS = {
    "-000alice": "Alice (public)",
    "-000bob": "Bob (private)",
    "-000carol": "Carol (banned)",
    "-000dave": "Dave (at posting cap)",
}


def consent(page: Any, *, user: str = "-000alice", decision: str = "approve",
            scopes: list[str] | None = None) -> None:
    """On the sandbox consent page: pick the account, (un)tick scopes, approve or deny."""
    page.wait_for_url("**/v2/auth/authorize/**")
    page.select_option("select[name=user]", user)
    if scopes is not None:
        for box in page.locator("input[name=scope]").all():
            box.set_checked(box.get_attribute("value") in scopes)
    page.click(f"button[name=decision][value={decision}]")


def login(page: Any, spa_url: str, *, user: str = "-000alice", path: str = "/") -> None:
    """Open the SPA at `path`, log in as `user` and wait until the SPA shows it signed in."""
    page.goto(spa_url + path)
    page.get_by_test_id("login").click()
    consent(page, user=user)
    page.wait_for_url(spa_url + path + "**")
    expect(page.get_by_test_id("session-state")).to_contain_text("Signed in")
    if path == "/":
        expect(page.get_by_test_id("display-name")).to_have_text(USERS[user])


def bearer_tokens(page: Any, path_prefix: str = "/api/") -> list[str]:
    """The bearer tokens the SPA sent to the broker so far (oldest first, unique)."""
    seen: list[str] = []
    for call in page.log.broker_calls(path_prefix):
        auth = call["authorization"]
        if auth and auth.startswith("Bearer ") and auth[7:] not in seen:
            seen.append(auth[7:])
    return seen


def assert_token_nowhere_in_page(page: Any, token: str) -> None:
    """The JWT is in no URL, storage, cookie or console line the page can see."""
    assert token not in page.url
    state = page.evaluate("""() => JSON.stringify({
        href: location.href, hash: location.hash, history: history.state,
        local: Object.assign({}, localStorage), session: Object.assign({}, sessionStorage),
        cookie: document.cookie, title: document.title, body: document.body.innerText })""")
    assert token not in state, "the JWT is readable by the page outside memory"
    assert "access_token" not in state
    assert not any(token in line for line in page.log.console)
