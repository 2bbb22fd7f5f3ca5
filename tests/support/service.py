"""The app backend's side of the service API in tests: keys made with the real CLI, connect
links followed the way the user's browser follows them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.support.broker import Broker
from tests.support.consent import submit_consent
from tests.support.sandbox import ROOT

ALL_SCOPES = ("accounts:read", "accounts:write", "users:tokens", "profile:read", "posts:write",
              "posts:read", "videos:read", "tokens:issue")


def cli(broker: Broker, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m broker service-keys ...` with the broker's own environment (its Redis)."""
    return subprocess.run([sys.executable, "-m", "broker", "service-keys", *args], cwd=ROOT,
                          env=broker.env, capture_output=True, text=True, timeout=60, check=False)


def create_key(broker: Broker, scopes: tuple[str, ...] = ALL_SCOPES, days: str = "1",
               name: str = "test backend") -> str:
    """A new service key, as the CLI prints it."""
    made = cli(broker, "create", "--name", name, "--scopes", ",".join(scopes), "--days", days)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def key_id(key: str) -> str:
    return key.split("_")[1]


def service(key: str, account: str | None = None) -> dict[str, str]:
    """The headers of a service call (acting for `account` on /api/*)."""
    headers = {"Authorization": f"Bearer {key}"}
    if account is not None:
        headers["Broker-Account"] = account
    return headers


def connect_link(broker: Broker, key: str, app_user_id: str, **extra: str) -> requests.Response:
    """POST /service/connect-sessions."""
    return requests.post(f"{broker.url}/service/connect-sessions", headers=service(key),
                         json={"app_user_id": app_user_id, **extra}, timeout=10)


@dataclass
class Connected:
    """Where the browser landed: the callback's answer and its fragment."""

    callback: requests.Response
    fragment: dict[str, str]

    @property
    def account_id(self) -> str:
        return self.fragment["connected"]


def open_link(browser: requests.Session, connect_url: str) -> requests.Response:
    """The browser opens the connect link (302 to TikTok, not followed)."""
    return browser.get(connect_url, allow_redirects=False, timeout=10)


def consent_and_return(browser: requests.Session, opened: requests.Response, *, user: str,
                       decision: str = "approve") -> Connected:
    """Answer TikTok's consent page and follow the callback back to the app."""
    assert opened.status_code == 302, opened.text
    consent = submit_consent(browser, opened.headers["Location"], user=user, decision=decision)
    assert consent.status_code == 302, consent.text
    callback = browser.get(consent.headers["Location"], allow_redirects=False, timeout=20)
    fragment = dict(parse_qsl(urlsplit(callback.headers.get("Location", "")).fragment))
    return Connected(callback, fragment)


def connect(broker: Broker, key: str, app_user_id: str, user: str,
            browser: requests.Session | None = None, **extra: str) -> Connected:
    """The whole connect: a link for the app user, opened and approved as TikTok `user`."""
    browser = browser or requests.Session()
    link = connect_link(broker, key, app_user_id, **extra)
    assert link.status_code == 201, link.text
    return consent_and_return(browser, open_link(browser, link.json()["connect_url"]), user=user)
