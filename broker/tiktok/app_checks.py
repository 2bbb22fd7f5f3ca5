"""Asking TikTok whether the app's registration works, with no user: for the doctor.

Two questions TikTok answers without anyone signing in: does the token endpoint accept the key
and secret (the client-credentials grant, tiktok-api.md §2.3), and does the authorize page accept
the request the broker would send, or show its own error page naming the bad parameter (§1.3
[OBS]: "Something went wrong ... correct the following: <param>", no redirect).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests

from broker.tiktok.oauth import authorization_request

TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 (a path, not a secret)
# The scopes TikTok documents (tiktok-api.md §1.1, §4, §4b, §5); others are likely typos.
KNOWN_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.publish",
                "video.upload", "video.list")
# "... correct the following: <param>" (§1.3 [OBS]), also worded "correct the following and
# try again: <param>"; the name may sit in markup or backticks.
_BAD_PARAM = re.compile(r"correct the following(?:[^:<]{0,40}:)?\s*(?:<[^>]*>\s*)*`?([A-Za-z_]+)",
                        re.IGNORECASE)


@dataclass(frozen=True)
class CredentialsAnswer:
    """What the token endpoint said to the client-credentials grant, and its clock (`Date`)."""

    accepted: bool
    error: str | None  # TikTok's OAuth error code, e.g. invalid_client
    server_time: float | None


@dataclass(frozen=True)
class AuthorizeAnswer:
    """What the authorize page did: its status, and the parameter its error page names."""

    status: int
    bad_param: str | None
    error_page: bool


def try_client_credentials(http: requests.Session, *, api_url: str, client_key: str,
                           client_secret: str, timeout: tuple[float, float]) -> CredentialsAnswer:
    """Ask for a client token (§2.3); the token itself is dropped at once, never shown."""
    response = http.post(api_url + TOKEN_PATH, timeout=timeout, allow_redirects=False, data={
        "client_key": client_key, "client_secret": client_secret,  # §2: in the form body
        "grant_type": "client_credentials"}, headers={"Cache-Control": "no-cache"})
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    # §2.5: errors may come with HTTP 200; the body decides.
    accepted = bool(body.get("access_token")) and not body.get("error")
    error = None if accepted else str(body.get("error") or f"http_{response.status_code}")
    return CredentialsAnswer(accepted, error, server_time(response))


def server_time(response: requests.Response) -> float | None:
    """The answering server's clock, from its `Date` header (one-second resolution)."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def try_authorize(http: requests.Session, *, auth_url: str, client_key: str, redirect_uri: str,
                  scopes: tuple[str, ...], pkce: bool,
                  timeout: tuple[float, float]) -> AuthorizeAnswer:
    """Open the consent page as a browser would (nothing is granted) and read any error page."""
    url = authorization_request(auth_url=auth_url, client_key=client_key,
                                redirect_uri=redirect_uri, scopes=scopes, pkce=pkce).url
    response = http.get(url, timeout=timeout, allow_redirects=False,
                        headers={"Accept": "text/html"})
    text = response.text[:200_000] if "html" in response.headers.get("Content-Type", "") else ""
    named = bad_parameter(text)
    return AuthorizeAnswer(response.status_code, named,
                           named is not None or "something went wrong" in text.lower())


def bad_parameter(page: str) -> str | None:
    """The request parameter TikTok's error page asks to correct, if it names one (§1.3 [OBS])."""
    found = _BAD_PARAM.search(page)
    return found.group(1) if found else None
