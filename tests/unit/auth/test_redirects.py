"""Where /login may send the browser back to, and how results travel (in the fragment)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from broker.auth.redirects import MAX_TARGET, fragment_redirect, resolve_return_target
from broker.config.settings import Settings
from broker.errors import BadRequest

SETTINGS = Settings(client_key="k", client_secret="s",
                    redirect_uri="https://broker.example.com/auth/callback",
                    spa_url="http://localhost:5173/app/",
                    spa_origins=("http://localhost:5173", "https://spa.example.com"))


def test_no_target_means_spa_url() -> None:
    assert resolve_return_target(None, SETTINGS) == "http://localhost:5173/app/"
    assert resolve_return_target("", SETTINGS) == "http://localhost:5173/app/"


@pytest.mark.parametrize(("target", "expected"), [
    ("/dashboard", "http://localhost:5173/dashboard"),
    ("/posts?id=7", "http://localhost:5173/posts?id=7"),
    ("/%2F%2Fevil.com", "http://localhost:5173/%2F%2Fevil.com"),
    ("http://localhost:5173/after", "http://localhost:5173/after"),
    ("https://spa.example.com/x?y=1", "https://spa.example.com/x?y=1"),
    ("https://SPA.Example.com", "https://spa.example.com/"),
])
def test_allowed_targets(target: str, expected: str) -> None:
    assert resolve_return_target(target, SETTINGS) == expected


def test_fragment_of_an_absolute_target_is_dropped() -> None:
    assert resolve_return_target("https://spa.example.com/x#old", SETTINGS) == \
        "https://spa.example.com/x"


@pytest.mark.parametrize("target", [
    "//evil.com",
    "//evil.com/path",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "https://evil.com",
    "https://evil.com/?next=http://localhost:5173",
    "http://localhost:5173@evil.com",
    "https://spa.example.com@evil.com/",
    "https://user@spa.example.com/",
    "https://user:pw@spa.example.com/",
    "javascript:alert(1)",
    "JavaScript://localhost:5173/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://spa.example.com/",
    "/ok\r\nSet-Cookie: x=1",
    "/ok\n",
    "/ok\tx",
    "/ok x",
    "/\x00",
    "/caf\u00e9",
    "https://spa.example.com\uff0fevil",
    "https://spa\u3002example.com/",
    "/" + "a" * MAX_TARGET,
    "http://localhost:5174/",
    "http://localhost/",
    "https://localhost:5173/",
    "https://spa.example.com:8443/",
    "https://spa.example.com.evil.com/",
    "https:spa.example.com",
    "https:/spa.example.com",
    "http:///localhost:5173",
    "dashboard",
    "evil.com",
    "https://[spa.example.com/",
    "http://[::1/",
])
def test_refused_targets(target: str) -> None:
    with pytest.raises(BadRequest) as caught:
        resolve_return_target(target, SETTINGS)
    assert caught.value.code == "invalid_redirect"
    assert caught.value.status == 400


def test_fragment_redirect_puts_encoded_values_in_the_fragment() -> None:
    response = fragment_redirect("http://localhost:5173/app/", {
        "access_token": "a.b.c", "error_description": "Bad & ugly = #yes"})
    location = response.headers["Location"]
    assert response.status_code == 302
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path, parts.query) == \
        ("http", "localhost:5173", "/app/", "")
    assert "#" not in parts.fragment and "&ugly" not in parts.fragment
    assert parse_qs(parts.fragment) == {"access_token": ["a.b.c"],
                                        "error_description": ["Bad & ugly = #yes"]}


def test_fragment_redirect_replaces_an_existing_fragment() -> None:
    location = fragment_redirect("http://localhost:5173/p?q=1#old=1",
                                 {"error": "access_denied"}).headers["Location"]
    assert location == "http://localhost:5173/p?q=1#error=access_denied"


def test_fragment_redirect_location_is_not_rewritten() -> None:
    response = fragment_redirect("http://localhost:5173/", {"a": "b"})
    assert response.autocorrect_location_header is False
