"""The broker's cookies: the login binding (OAuth transactions) and the refresh cookie.

On an https broker both carry the `__Host-` prefix (Secure, Path=/, no Domain): a sibling
subdomain cannot plant or overwrite them.

The login binding ties a transaction to the browser that started it. One binding per browser,
sent to `/login` and to the callback (Path=/), so logins started in several tabs, or by a double
click, all complete. Its value is minted here and carries a MAC under the broker's key: a value
the broker did not mint (planted, or made up) is never adopted; a new one replaces it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import Request, Response

from broker.config.settings import Settings

LOGIN_COOKIE = "broker_login"
REFRESH_COOKIE = "broker_refresh"
REFRESH_PATH = "/auth"
HOST_PREFIX = "__Host-"


def login_cookie_name(settings: Settings) -> str:
    """`__Host-broker_login` on https, else `broker_login`."""
    return _prefix(settings) + LOGIN_COOKIE


def refresh_cookie_name(settings: Settings) -> str:
    """`__Host-broker_refresh` on https, else `broker_refresh`."""
    return _prefix(settings) + REFRESH_COOKIE


def login_binding(request: Request, settings: Settings) -> str:
    """The browser's binding when the broker minted it, else a fresh one (set it on the answer)."""
    current = request.cookies.get(login_cookie_name(settings), "")
    random_part, _, mac = current.partition(".")
    if random_part and hmac.compare_digest(mac, _mac(random_part, settings)):
        return current
    random_part = secrets.token_urlsafe(32)
    return f"{random_part}.{_mac(random_part, settings)}"


def presented_binding(request: Request, settings: Settings) -> str:
    """The binding the browser sent to the callback ("" if none), to compare with the stored."""
    return request.cookies.get(login_cookie_name(settings), "")


def set_login_cookie(response: Response, binding: str, settings: Settings) -> None:
    response.set_cookie(login_cookie_name(settings), binding, max_age=settings.state_ttl,
                        path="/", httponly=True, samesite="Lax",
                        secure=settings.public_is_https)


def refresh_cookie(request: Request, settings: Settings) -> str:
    """The refresh cookie this browser sent ("" if none)."""
    return request.cookies.get(refresh_cookie_name(settings), "")


def set_refresh_cookie(response: Response, value: str, max_age: int, settings: Settings) -> None:
    response.set_cookie(refresh_cookie_name(settings), value, max_age=max_age,
                        path=_path(settings, REFRESH_PATH), httponly=True,
                        samesite=settings.refresh_cookie_samesite,
                        secure=_refresh_cookie_secure(settings))


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(refresh_cookie_name(settings), path=_path(settings, REFRESH_PATH),
                           httponly=True, samesite=settings.refresh_cookie_samesite,
                           secure=_refresh_cookie_secure(settings))


def _prefix(settings: Settings) -> str:
    return HOST_PREFIX if settings.public_is_https else ""


def _mac(random_part: str, settings: Settings) -> str:
    """A MAC of the binding under a key derived from the first TOKEN_ENCRYPTION_KEYS key."""
    key = hmac.new(settings.encryption_keys[0], b"broker login binding", hashlib.sha256).digest()
    tag = hmac.new(key, random_part.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(tag).rstrip(b"=").decode()


def _path(settings: Settings, narrow: str) -> str:
    # `__Host-` cookies must say Path=/; over http (development) they stay on their routes.
    return "/" if settings.public_is_https else narrow


def _refresh_cookie_secure(settings: Settings) -> bool:
    # SameSite=None is only honoured by browsers on Secure cookies.
    return settings.public_is_https or settings.refresh_cookie_samesite == "None"
