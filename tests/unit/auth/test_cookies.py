"""The broker's cookies: `__Host-` on https, a login binding the broker minted or none."""

from __future__ import annotations

from flask import Flask, Response

from broker.auth import cookies
from broker.config.settings import Settings
from tests.support.env import OTHER_ENCRYPTION_KEY, valid_env

HTTPS = Settings.from_env(valid_env())  # https://broker.example.com/auth/callback
HTTP = Settings.from_env(valid_env(BROKER_ENV="development",
                                   TIKTOK_REDIRECT_URI="http://127.0.0.1:8000/auth/callback"))
OTHER_KEY = Settings.from_env(valid_env(TOKEN_ENCRYPTION_KEYS=OTHER_ENCRYPTION_KEY))


def set_cookie_headers(fill) -> list[str]:
    response = Response()
    fill(response)
    return response.headers.getlist("Set-Cookie")


def attributes(header: str) -> list[str]:
    return [part.strip().lower() for part in header.split(";")[1:]]


def binding_for(cookie: str | None, settings: Settings) -> str:
    """What /login uses when the browser sends `cookie` as its login binding."""
    headers = {"Cookie": f"{cookies.login_cookie_name(settings)}={cookie}"} if cookie else {}
    with Flask(__name__).test_request_context(headers=headers):
        from flask import request
        return cookies.login_binding(request, settings)


def test_on_https_both_cookies_are_host_prefixed_secure_and_path_root() -> None:
    login = set_cookie_headers(lambda r: cookies.set_login_cookie(r, "b", HTTPS))[0]
    refresh = set_cookie_headers(lambda r: cookies.set_refresh_cookie(r, "s.x", 60, HTTPS))[0]
    assert login.startswith("__Host-broker_login=")
    assert refresh.startswith("__Host-broker_refresh=")
    for header in (login, refresh):
        found = attributes(header)
        assert "secure" in found and "path=/" in found and "httponly" in found
        assert not any(a.startswith("domain") for a in found)


def test_over_http_in_development_the_refresh_cookie_keeps_its_narrow_path() -> None:
    refresh = set_cookie_headers(lambda r: cookies.set_refresh_cookie(r, "s.x", 60, HTTP))[0]
    assert refresh.startswith("broker_refresh=") and "path=/auth" in attributes(refresh)


def test_a_binding_the_broker_minted_is_kept_for_the_next_login() -> None:
    minted = binding_for(None, HTTP)
    assert binding_for(minted, HTTP) == minted  # a second tab: the same binding
    assert binding_for(None, HTTP) != minted


def test_a_planted_or_made_up_binding_is_never_adopted() -> None:
    minted = binding_for(None, HTTP)
    random_part, _, mac = minted.partition(".")
    wrong_mac = mac[:-1] + ("B" if mac[-1] == "A" else "A")
    for planted in ("planted-by-a-sibling-subdomain-0123456789abcdef", f"{random_part}.",
                    f"{random_part}.{wrong_mac}", f"x{random_part}.{mac}", minted + "x"):
        assert binding_for(planted, HTTP) != planted
    assert binding_for(minted, OTHER_KEY) != minted  # minted under another key: not ours
