"""Where the browser may be sent back to, and how results travel there (in the fragment)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Response

from broker.config.settings import Settings
from broker.config.urls import origin_of
from broker.errors import BadRequest

MAX_TARGET = 2048


def resolve_return_target(redirect_to: str | None, settings: Settings) -> str:
    """`redirect_to` as an absolute URL on an allowed SPA origin, or a 400.

    A path is resolved against SPA_URL's origin; an absolute URL must be http(s), carry no
    userinfo, and have its origin in SPA_ORIGINS. Backslashes, `//host`, control characters
    and anything else a browser might read differently from us are refused outright.
    """
    if redirect_to is None or redirect_to == "":
        return settings.spa_url
    refuse = BadRequest("redirect_to must be a path or a URL on an allowed SPA origin.",
                        code="invalid_redirect")
    if (len(redirect_to) > MAX_TARGET or "\\" in redirect_to or not redirect_to.isascii()
            or any(ord(c) < 33 or ord(c) == 127 for c in redirect_to)):
        raise refuse
    if redirect_to.startswith("/"):
        if redirect_to.startswith("//"):
            raise refuse
        return origin_of(settings.spa_url) + redirect_to
    try:
        parts = urlsplit(redirect_to)
    except ValueError as exc:  # e.g. "https://[host/": an unclosed IPv6 bracket
        raise refuse from exc
    if (parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc
            or origin_of(redirect_to) not in settings.spa_origins):
        raise refuse
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def fragment_redirect(target: str, params: dict[str, str]) -> Response:
    """302 to `target` with `params` in the fragment: never sent to a server or a Referer."""
    base = target.split("#", 1)[0]
    response = Response(status=302, headers={"Location": base + "#" + urlencode(params)})
    response.autocorrect_location_header = False
    return response
