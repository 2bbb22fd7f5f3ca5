"""The broker over HTTP, in-process: security headers, CORS, the JSON error shape, /login,
readiness. Redis is the test database; TikTok is never called (its URLs point at a dead port)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from broker import create_app
from broker.errors import BrokerError
from broker.services import EXTENSION, Services
from broker.storage.vault import Vault
from tests.support.apps import CLIENT_SECRET, REDIS_URL, SPA, TIKTOK, make_settings

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def store() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app(store: redis.Redis) -> Iterator[Flask]:
    application = create_app(make_settings())
    yield application
    _drop_broker_log_handlers()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _drop_broker_log_handlers() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_broker", False)]:
        root.removeHandler(handler)


def services_of(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION]
    return found


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert body["error"] == code
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert set(body) <= {"error", "error_description", "tiktok_log_id"}
    return body


def assert_security_headers(response: TestResponse) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in headers["Cache-Control"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


# --- headers and the error shape ------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/nowhere"), ("POST", "/healthz"),
    ("GET", "/api/me"), ("GET", "/login"), ("GET", "/login?redirect_to=//evil.com"),
    ("GET", "/auth/callback"), ("POST", "/auth/refresh"), ("POST", "/auth/session"),
])
def test_security_headers_on_every_response(client: FlaskClient, method: str,
                                             path: str) -> None:
    assert_security_headers(client.open(path, method=method))


def test_hsts_only_when_the_broker_is_https(store: redis.Redis) -> None:
    plain = create_app(make_settings()).test_client().get("/healthz")
    assert "Strict-Transport-Security" not in plain.headers
    secure_settings = make_settings(
        BROKER_ENV="production", TIKTOK_REDIRECT_URI="https://broker.example.com/auth/callback",
        TIKTOK_AUTH_URL="https://127.0.0.1:1/v2/auth/authorize/", TIKTOK_API_URL="https://127.0.0.1:1",
        SPA_URL="https://app.example.com/")
    secure = create_app(secure_settings).test_client().get("/healthz")
    _drop_broker_log_handlers()
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/nowhere"), 404, "not_found")


def test_wrong_method_is_a_json_405_with_allow(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_an_unexpected_exception_is_a_json_500_that_leaks_nothing(app: Flask) -> None:
    def boom() -> str:
        raise RuntimeError(f"kaboom with {CLIENT_SECRET} and access_token=act.LEAKME")
    app.add_url_rule("/boom", "boom", boom)
    response = app.test_client().get("/boom")
    body = assert_error(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert CLIENT_SECRET not in text and "act.LEAKME" not in text and "Traceback" not in text
    assert "kaboom" not in body["error_description"]
    assert_security_headers(response)


# --- CORS -------------------------------------------------------------------------------------

def preflight(client: FlaskClient, origin: str, path: str = "/api/me", *, method: str = "GET",
              headers: str = "Authorization") -> TestResponse:
    return client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize("path", ["/api/me", "/auth/refresh", "/logout"])
def test_cors_preflight_from_the_spa_allows_credentials(client: FlaskClient, path: str) -> None:
    response = preflight(client, SPA, path)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_lets_the_spa_send_an_idempotency_key(client: FlaskClient) -> None:
    """The SPA schedules posts with Idempotency-Key, a custom header, so it is preflighted."""
    response = preflight(client, SPA, "/api/posts", method="POST",
                         headers="Authorization, Content-Type, Idempotency-Key")
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    allowed = {h.strip().lower()
               for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed


@pytest.mark.parametrize("origin", ["https://evil.com", "http://localhost:5174",
                                    "http://localhost:5173.evil.com", "null"])
def test_cors_preflight_from_another_origin_is_not_allowed(client: FlaskClient,
                                                           origin: str) -> None:
    response = preflight(client, origin)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_actual_request_from_another_origin_gets_no_cors_grant(client: FlaskClient) -> None:
    response = client.get("/api/me", headers={"Origin": "https://evil.com"})
    assert "Access-Control-Allow-Origin" not in response.headers
    spa = client.get("/api/me", headers={"Origin": SPA})
    assert spa.headers["Access-Control-Allow-Origin"] == SPA
    assert "WWW-Authenticate" in spa.headers["Access-Control-Expose-Headers"]


# --- bearer authentication --------------------------------------------------------------------

def test_api_without_credentials_is_a_bare_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/api/me")
    assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", [
    "Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer " + "x" * 5000,
])
def test_api_with_a_bad_token_says_invalid_token(client: FlaskClient,
                                                 authorization: str) -> None:
    response = client.get("/api/me", headers={"Authorization": authorization})
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_valid_token_for_an_ended_session_is_refused(app: Flask) -> None:
    token = services_of(app).jwts.issue("open-1", "no-such-session", ("user.info.basic",))
    response = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# --- /login -----------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "https://evil.com", "//evil.com", "/%5Cevil.com", "javascript:alert(1)",
    "https://%5Bevil.com/", "/ok%0d%0aSet-Cookie:x=1", "/ok%09x", "https://localhost:5173@evil.com",
])
def test_login_refuses_a_foreign_redirect_and_stores_nothing(
        client: FlaskClient, store: redis.Redis, query: str) -> None:
    response = client.get("/login?redirect_to=" + query)
    assert_error(response, 400, "invalid_redirect")
    assert "Set-Cookie" not in response.headers
    assert store.dbsize() == 0


def login(client: FlaskClient, **query: str) -> tuple[TestResponse, dict[str, str]]:
    response = client.get("/login", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    params = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    return response, params


def test_login_redirects_to_tiktok_with_its_parameters(client: FlaskClient) -> None:
    response, params = login(client)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        f"{TIKTOK}/v2/auth/authorize/"
    assert params["client_key"] == "awkeyhttp"
    assert params["scope"] == "user.info.basic,video.publish"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == "http://127.0.0.1:8000/auth/callback"
    assert len(params["state"]) >= 32
    assert re.fullmatch(r"[0-9a-f]{64}", params["code_challenge"])
    assert params["code_challenge_method"] == "S256"
    assert "client_id" not in params and "client_secret" not in params
    assert CLIENT_SECRET not in response.headers["Location"]


def test_login_adds_requested_extra_scopes(client: FlaskClient) -> None:
    _, params = login(client, scope="video.list,user.info.basic")
    assert params["scope"] == "user.info.basic,video.publish,video.list"


def test_login_refuses_malformed_scopes(client: FlaskClient, store: redis.Redis) -> None:
    assert_error(client.get("/login?scope=video.list,<script>"), 400, "invalid_scope")
    assert store.dbsize() == 0


def test_login_cookie_binds_the_browser(client: FlaskClient) -> None:
    response, _ = login(client)
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie")
                 if c.startswith("broker_login=")]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes  # /login reuses it: logins in several tabs all complete
    assert "max-age=300" in attributes
    assert "secure" not in attributes  # http broker in development


def test_login_stores_the_transaction_sealed_under_the_state_digest(
        app: Flask, client: FlaskClient, store: redis.Redis) -> None:
    _, params = login(client, redirect_to="/after")
    state = params["state"]
    name = "tb:tx:" + hashlib.sha256(state.encode()).hexdigest()
    assert store.keys("*") == [name]
    assert 0 < store.ttl(name) <= 300
    stored = store.hgetall(name)
    raw = json.dumps(stored)
    assert state not in raw and state not in name
    binding = client.get_cookie("broker_login")
    assert binding is not None and binding.value not in raw
    # Only the test, which holds the key, can open it: the verifier matches the challenge.
    vault = Vault(services_of(app).settings.encryption_keys)
    opened = json.loads(vault.decrypt(stored["v"], "tx:" + hashlib.sha256(state.encode())
                                      .hexdigest()))
    verifier = opened["code_verifier"]
    assert verifier not in raw and "/after" not in raw
    assert hashlib.sha256(verifier.encode()).hexdigest() == params["code_challenge"]
    assert opened["return_to"] == f"{SPA}/after"


def test_pkce_off_sends_no_challenge(store: redis.Redis) -> None:
    app = create_app(make_settings(TIKTOK_PKCE="off"))
    _drop_broker_log_handlers()
    _, params = login(app.test_client())
    assert "code_challenge" not in params and "code_challenge_method" not in params


def test_the_login_cookie_is_secure_on_an_https_broker(store: redis.Redis) -> None:
    settings = make_settings(
        BROKER_ENV="production", TIKTOK_REDIRECT_URI="https://broker.example.com/auth/callback",
        TIKTOK_AUTH_URL="https://127.0.0.1:1/v2/auth/authorize/", TIKTOK_API_URL="https://127.0.0.1:1",
        SPA_URL="https://app.example.com/")
    app = create_app(settings)
    _drop_broker_log_handlers()
    response, _ = login(app.test_client())
    cookie = response.headers["Set-Cookie"].lower()
    assert "; secure" in cookie


# --- readiness, store outages, JWKS ----------------------------------------------------------

def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_with_redis_up(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["redis"] == "up"


@pytest.fixture
def dead_store_app() -> Iterator[Flask]:
    application = create_app(make_settings(REDIS_URL=DEAD_REDIS_URL))
    yield application
    _drop_broker_log_handlers()


def test_readyz_503_when_redis_is_down(dead_store_app: Flask) -> None:
    client = dead_store_app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "down"


def test_api_with_redis_down_is_a_503_not_a_500(dead_store_app: Flask) -> None:
    token = services_of(dead_store_app).jwts.issue("open-1", "sid-1", ("user.info.basic",))
    response = dead_store_app.test_client().get("/api/me",
                                                headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 503, "store_unavailable")
    assert response.headers["Retry-After"].isdigit()


def test_login_with_redis_down_is_a_503(dead_store_app: Flask) -> None:
    response = dead_store_app.test_client().get("/login")
    assert_error(response, 503, "store_unavailable")
    assert "Location" not in response.headers


def test_jwks_is_empty_for_an_hs256_secret(client: FlaskClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.get_json() == {"keys": []}


def test_jwks_publishes_an_es256_public_key(store: redis.Redis) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    app = create_app(make_settings(JWT_SIGNING_KEY=pem))
    _drop_broker_log_handlers()
    (key,) = app.test_client().get("/.well-known/jwks.json").get_json()["keys"]
    assert key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key
    assert key["kid"] == services_of(app).settings.signing_keys[0].kid


def test_error_responses_never_carry_a_stack_trace(client: FlaskClient) -> None:
    for response in (client.get("/nowhere"), client.get("/api/me"),
                     client.get("/auth/callback?state=x&code=y")):
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and 'File "' not in text
        assert isinstance(response.get_json(), dict)


class Teapot(BrokerError):
    status = 418  # an error class carries its status; raise sites never override it


def test_broker_errors_are_the_json_shape(app: Flask) -> None:
    def refuse() -> str:
        raise Teapot("Nope.", code="teapot")
    app.add_url_rule("/refuse", "refuse", refuse)
    assert assert_error(app.test_client().get("/refuse"), 418, "teapot") == {
        "error": "teapot", "error_description": "Nope."}
