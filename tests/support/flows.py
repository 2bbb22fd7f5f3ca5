"""A user's login as a browser would do it, over real HTTP: broker -> sandbox consent -> back."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.support.consent import submit_consent

SPA_ORIGIN = "http://127.0.0.1:5173"


@dataclass
class Login:
    """The outcome: the final redirect to the SPA, parsed, and the browser's cookie jar."""

    browser: requests.Session
    callback: requests.Response
    fragment: dict[str, str]

    @property
    def access_token(self) -> str:
        return self.fragment["access_token"]

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.access_token}"}


def start_login(browser: requests.Session, broker_url: str, **params: str) -> requests.Response:
    """GET /login; returns the 302 towards TikTok (not followed)."""
    return browser.get(f"{broker_url}/login", params=params, allow_redirects=False, timeout=10)


def consent_redirect(browser: requests.Session, login_response: requests.Response, *,
                     user: str = "-000alice", scopes: list[str] | None = None,
                     decision: str = "approve") -> str:
    """Follow the broker to the sandbox's consent page and answer it; returns the callback URL."""
    assert login_response.status_code == 302, login_response.text
    consent = submit_consent(browser, login_response.headers["Location"], user=user,
                             scopes=scopes, decision=decision)
    assert consent.status_code == 302, consent.text
    return consent.headers["Location"]


def finish_login(browser: requests.Session, callback_url: str) -> Login:
    """GET the broker's callback as the browser would; parse the fragment it redirects to."""
    callback = browser.get(callback_url, allow_redirects=False, timeout=20)
    fragment = dict(parse_qsl(urlsplit(callback.headers.get("Location", "")).fragment))
    return Login(browser, callback, fragment)


def login(broker_url: str, *, user: str = "-000alice", scopes: list[str] | None = None,
          decision: str = "approve", browser: requests.Session | None = None,
          **params: str) -> Login:
    """The whole login in one call."""
    browser = browser or requests.Session()
    started = start_login(browser, broker_url, **params)
    callback_url = consent_redirect(browser, started, user=user, scopes=scopes, decision=decision)
    return finish_login(browser, callback_url)


def refresh(browser: requests.Session, broker_url: str, origin: str = SPA_ORIGIN,
            cookie: str | None = None) -> requests.Response:
    """POST /auth/refresh from the SPA origin with the browser's (or a given) refresh cookie."""
    headers = {"Origin": origin}
    if cookie is not None:
        headers["Cookie"] = f"broker_refresh={cookie}"
        return requests.post(f"{broker_url}/auth/refresh", headers=headers, timeout=10)
    return browser.post(f"{broker_url}/auth/refresh", headers=headers, timeout=10)
