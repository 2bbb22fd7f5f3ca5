"""Forged, altered and misdirected JWTs are refused by a running broker."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import requests

from tests.support.env import TEST_JWT_SECRET
from tests.support.flows import login


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def genuine(broker):
    result = login(broker.url)
    return result.access_token, jwt.get_unverified_header(result.access_token), \
        jwt.decode(result.access_token, options={"verify_signature": False})


def _forge(claims: dict, header: dict, key: str = TEST_JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=header)


def _refused(broker, token: str) -> None:
    response = requests.get(f"{broker.url}/api/me",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401, token
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert token not in response.text


def test_genuine_token_works_and_forgeries_do_not(broker, genuine):
    token, header, claims = genuine
    assert requests.get(f"{broker.url}/api/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 200
    now = int(time.time())
    head, body, signature = token.split(".")
    forgeries = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{body}.",
        "wrong key": _forge(claims, header, key="another-secret-of-enough-length-000000000"),
        "tampered": f"{head}.{_b64({**claims, 'sub': '-000bob'})}.{signature}",
        "expired": _forge({**claims, "iat": now - 3600, "nbf": now - 3600, "exp": now - 60},
                          header),
        "not yet valid": _forge({**claims, "nbf": now + 3600, "exp": now + 7200}, header),
        "wrong aud": _forge({**claims, "aud": "someone-else"}, header),
        "wrong iss": _forge({**claims, "iss": "https://evil.example"}, header),
        "no kid": _forge(claims, {}),
        "unknown kid": _forge(claims, {"kid": "rotated-away"}),
        "no sid": _forge({k: v for k, v in claims.items() if k != "sid"}, header),
        "other session": _forge({**claims, "sid": "not-a-session"}, header),
        "truncated": token[:-10],
    }
    for name, forged in forgeries.items():
        try:
            _refused(broker, forged)
        except AssertionError as exc:  # name the attack that got through
            raise AssertionError(name) from exc


def test_malformed_authorization_headers(broker):
    for value in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer a.b.c",
                  "Bearer " + "x" * 7000):
        response = requests.get(f"{broker.url}/api/me", headers={"Authorization": value},
                                timeout=10)
        assert response.status_code == 401, value[:40]
        assert response.headers["Content-Type"] == "application/json"
