"""Login Kit's quirks in broker/tiktok/oauth.py: authorize URL, PKCE hex, client auth, grants."""

from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from broker.tiktok.oauth import (
    VERIFIER_ALPHABET,
    TikTokGrant,
    authorization_request,
    hex_s256_challenge,
    new_code_verifier,
    tiktok_client_secret_post,
)

AUTH = "https://www.tiktok.com/v2/auth/authorize/"
REDIRECT = "https://broker.example.com/auth/callback"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_authorization_url_carries_tiktoks_parameters() -> None:
    request = authorization_request(auth_url=AUTH, client_key="awkey",
                                    redirect_uri=REDIRECT,
                                    scopes=("user.info.basic", "video.publish"), pkce=True)
    assert request.url.startswith(AUTH + "?")
    params = query(request.url)
    assert params["client_key"] == ["awkey"]
    assert params["scope"] == ["user.info.basic,video.publish"]
    assert params["response_type"] == ["code"]
    assert params["redirect_uri"] == [REDIRECT]
    assert params["state"] == [request.state]
    assert params["code_challenge_method"] == ["S256"]
    assert request.code_verifier is not None
    assert params["code_challenge"] == [hashlib.sha256(request.code_verifier.encode()).hexdigest()]
    assert re.fullmatch(r"[0-9a-f]{64}", params["code_challenge"][0])
    assert "client_id" not in params and "client_secret" not in params
    assert request.code_verifier not in request.url
    assert request.state not in repr(request) and request.code_verifier not in repr(request)


def test_without_pkce_there_is_no_challenge() -> None:
    request = authorization_request(auth_url=AUTH, client_key="awkey", redirect_uri=REDIRECT,
                                    scopes=("user.info.basic",), pkce=False)
    params = query(request.url)
    assert request.code_verifier is None
    assert "code_challenge" not in params and "code_challenge_method" not in params


def test_an_auth_url_with_a_query_gets_parameters_appended() -> None:
    request = authorization_request(auth_url=AUTH + "?lang=en", client_key="k",
                                    redirect_uri=REDIRECT, scopes=("user.info.basic",), pkce=True)
    assert request.url.count("?") == 1
    assert query(request.url)["lang"] == ["en"] and query(request.url)["client_key"] == ["k"]


def test_each_request_has_a_fresh_unguessable_state_and_verifier() -> None:
    requests = [authorization_request(auth_url=AUTH, client_key="k", redirect_uri=REDIRECT,
                                      scopes=("user.info.basic",), pkce=True) for _ in range(5)]
    assert len({r.state for r in requests}) == 5
    assert len({r.code_verifier for r in requests}) == 5
    assert all(len(r.state) >= 32 for r in requests)


def test_verifier_length_and_alphabet() -> None:
    verifier = new_code_verifier()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set(VERIFIER_ALPHABET)


def test_hex_s256_challenge_is_hex_not_base64url() -> None:
    # RFC 7636 Appendix B's verifier; its base64url challenge would be E9Melhoa2Owv...
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = hex_s256_challenge(verifier)
    assert challenge == hashlib.sha256(verifier.encode()).hexdigest()
    assert challenge == "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3"
    assert challenge != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_client_auth_sends_client_key_and_secret_in_the_body() -> None:
    client = SimpleNamespace(client_id="awkey", client_secret="s3cret")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    uri, headers, body = tiktok_client_secret_post(
        client, "POST", "https://open.tiktokapis.com/v2/oauth/token/", headers,
        "grant_type=authorization_code&code=abc%2A&client_id=awkey&redirect_uri=https%3A%2F%2Fb")
    fields = dict(parse_qsl(body))
    assert uri == "https://open.tiktokapis.com/v2/oauth/token/"
    assert fields == {"grant_type": "authorization_code", "code": "abc*", "client_key": "awkey",
                      "client_secret": "s3cret", "redirect_uri": "https://b"}
    assert "client_id" not in body
    assert "Authorization" not in headers
    assert headers["Cache-Control"] == "no-cache"


def test_client_auth_with_an_empty_body() -> None:
    client = SimpleNamespace(client_id="awkey", client_secret=None)
    _, _, body = tiktok_client_secret_post(client, "POST", "u", {}, "")
    assert dict(parse_qsl(body, keep_blank_values=True)) == {"client_key": "awkey",
                                                             "client_secret": ""}


def grant_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "open_id": "open-1", "access_token": "act.A1", "expires_in": 86400,
        "refresh_token": "rft.R1", "refresh_expires_in": 31536000,
        "scope": "user.info.basic,video.publish", "token_type": "Bearer",
    }
    body.update(overrides)
    return body


def test_grant_from_a_token_response() -> None:
    grant = TikTokGrant.from_response(grant_body(), now=1000.0)
    assert grant.open_id == "open-1"
    assert grant.access_token == "act.A1" and grant.refresh_token == "rft.R1"
    assert grant.expires_at == 1000.0 + 86400
    assert grant.refresh_expires_at == 1000.0 + 31536000
    assert grant.scopes == ("user.info.basic", "video.publish")
    assert grant.issued_at == 1000.0
    assert "act.A1" not in repr(grant) and "rft.R1" not in repr(grant)


def test_refresh_without_a_new_refresh_token_keeps_the_previous_one() -> None:
    first = TikTokGrant.from_response(grant_body(), now=1000.0)
    body = grant_body(access_token="act.A2", refresh_token=None, refresh_expires_in=None,
                      open_id=None, scope="")
    second = TikTokGrant.from_response(body, now=5000.0, previous=first)
    assert second.access_token == "act.A2"
    assert second.refresh_token == "rft.R1"
    assert second.refresh_expires_at == first.refresh_expires_at
    assert second.open_id == "open-1"
    assert second.scopes == first.scopes
    assert second.expires_at == 5000.0 + 86400


def test_refresh_with_a_new_refresh_token_replaces_it() -> None:
    first = TikTokGrant.from_response(grant_body(), now=1000.0)
    second = TikTokGrant.from_response(
        grant_body(access_token="act.A2", refresh_token="rft.R2", refresh_expires_in=100),
        now=5000.0, previous=first)
    assert second.refresh_token == "rft.R2" and second.refresh_expires_at == 5100.0


def test_scopes_separated_by_spaces_or_commas_are_both_read() -> None:
    grant = TikTokGrant.from_response(grant_body(scope="user.info.basic video.list, a.b"), 0.0)
    assert grant.scopes == ("user.info.basic", "video.list", "a.b")


@pytest.mark.parametrize(("lifetime", "margin"), [(86400, 300), (600, 60), (100, 10)])
def test_needs_refresh_margin(lifetime: int, margin: int) -> None:
    grant = TikTokGrant.from_response(grant_body(expires_in=lifetime), now=1000.0)
    expiry = 1000.0 + lifetime
    assert not grant.needs_refresh(1000.0)
    assert not grant.needs_refresh(expiry - margin - 1)
    assert grant.needs_refresh(expiry - margin)
    assert grant.needs_refresh(expiry + 1)
