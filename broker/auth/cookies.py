"""The broker's two cookies: the login binding (OAuth transaction) and the refresh cookie."""

from __future__ import annotations

import secrets

from flask import Request, Response

from broker.config.settings import Settings

LOGIN_COOKIE = "broker_login"
REFRESH_COOKIE = "broker_refresh"
REFRESH_PATH = "/auth"


def login_binding(request: Request) -> str:
    """This browser's login binding: reused while it lasts, so parallel logins in tabs work."""
    current = request.cookies.get(LOGIN_COOKIE, "")
    return current if 40 <= len(current) <= 64 and current.isascii() else secrets.token_urlsafe(32)


def set_login_cookie(response: Response, binding: str, settings: Settings) -> None:
    response.set_cookie(LOGIN_COOKIE, binding, max_age=settings.state_ttl,
                        path=settings.callback_path, httponly=True, samesite="Lax",
                        secure=settings.public_is_https)


def clear_login_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(LOGIN_COOKIE, path=settings.callback_path, httponly=True,
                           samesite="Lax", secure=settings.public_is_https)


def _refresh_cookie_secure(settings: Settings) -> bool:
    # SameSite=None is only honoured by browsers on Secure cookies.
    return settings.public_is_https or settings.refresh_cookie_samesite == "None"


def set_refresh_cookie(response: Response, value: str, max_age: int, settings: Settings) -> None:
    response.set_cookie(REFRESH_COOKIE, value, max_age=max_age, path=REFRESH_PATH, httponly=True,
                        samesite=settings.refresh_cookie_samesite,
                        secure=_refresh_cookie_secure(settings))


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, httponly=True,
                           samesite=settings.refresh_cookie_samesite,
                           secure=_refresh_cookie_secure(settings))
