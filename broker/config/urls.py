"""URL rules the configuration checks: web URLs, origins, and TikTok's redirect-URI rules."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL, lower-cased as browsers send it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_web_url(value: str) -> bool:
    """Whether `value` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(value)
    except ValueError:  # urlsplit refuses some netlocs (bad IPv6, NFKC-changed characters)
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def redirect_uri_problems(uri: str, *, allow_http: bool) -> list[str]:
    """Why TikTok would refuse this redirect URI (tiktok-api.md §1.4), as readable sentences."""
    name = "TIKTOK_REDIRECT_URI"
    if not uri.isascii() or any(ord(c) < 33 or ord(c) == 127 for c in uri):
        return [f"{name}: only printable ASCII characters (no spaces or full-width punctuation)"]
    try:
        parts = urlsplit(uri)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return [f"{name}: not a readable URL"]
    problems = []
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        problems.append(f"{name}: must be https (http only in development)")
    if not parts.hostname:
        problems.append(f"{name}: must be an absolute URL with a host")
    if parts.query or "?" in uri:
        problems.append(f"{name}: TikTok denies query parameters in redirect URIs")
    if parts.fragment or "#" in uri:
        problems.append(f"{name}: TikTok denies a fragment (#) in redirect URIs")
    if len(uri) >= 512:
        problems.append(f"{name}: TikTok requires fewer than 512 characters")
    if parts.path in ("", "/"):
        problems.append(f"{name}: its path is the callback route, so it needs one "
                        "(e.g. /auth/callback)")
    return problems
