"""Settings.from_env: every problem at once, production refusals, TikTok's redirect-URI rules."""

from __future__ import annotations

import logging

import pytest

from broker.config.environment import MIB, ConfigError
from broker.config.settings import Settings
from tests.support.env import (
    OTHER_ENCRYPTION_KEY,
    TEST_ENCRYPTION_KEY,
    TEST_JWT_SECRET,
    valid_env,
)


def problems_for(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    return caught.value.problems


def test_a_complete_valid_environment_is_accepted() -> None:
    settings = Settings.from_env(valid_env())
    assert settings.client_key == "awkey123"
    assert settings.callback_path == "/auth/callback"
    assert settings.signing_keys[0].algorithm == "HS256"
    assert settings.environment == "production"
    assert settings.scopes == ("user.info.basic",)


def test_every_problem_is_reported_at_once() -> None:
    env = valid_env(TIKTOK_CLIENT_KEY="", TIKTOK_REDIRECT_URI="http://broker.example.com/cb",
                         JWT_SIGNING_KEY="short", UPLOAD_CHUNK_SIZE="1")
    problems = problems_for(env)
    text = "\n".join(problems)
    assert len(problems) >= 4
    assert "TIKTOK_CLIENT_KEY: required" in problems
    assert "TIKTOK_REDIRECT_URI" in text and "https" in text
    assert "JWT_SIGNING_KEY" in text
    assert "UPLOAD_CHUNK_SIZE" in text
    # The exception's own message lists them too, one per line.
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert str(caught.value).count("\n  - ") == len(problems)


@pytest.mark.parametrize("secret", [
    "too-short-secret",                          # < 32 bytes
    "a" * 40,                                    # repetitive
    "abababababababababababababababababab",      # repetitive
])
def test_production_refuses_a_weak_jwt_secret(secret: str) -> None:
    problems = problems_for(valid_env(JWT_SIGNING_KEY=secret))
    assert [p for p in problems if p.startswith("JWT_SIGNING_KEY")], problems


def test_production_requires_the_jwt_signing_key_and_encryption_keys() -> None:
    problems = problems_for(valid_env(JWT_SIGNING_KEY="", TOKEN_ENCRYPTION_KEYS=""))
    assert any(p.startswith("JWT_SIGNING_KEY: required") for p in problems)
    assert any(p.startswith("TOKEN_ENCRYPTION_KEYS: required") for p in problems)


def test_encryption_keys_must_be_base64_of_32_bytes() -> None:
    problems = problems_for(valid_env(TOKEN_ENCRYPTION_KEYS=f"{TEST_ENCRYPTION_KEY},not-a-key"))
    assert problems == ["TOKEN_ENCRYPTION_KEYS: key 2 is not URL-safe base64 of 32 bytes"]


def test_several_encryption_keys_are_kept_in_order() -> None:
    settings = Settings.from_env(valid_env(
        TOKEN_ENCRYPTION_KEYS=f"{TEST_ENCRYPTION_KEY}, {OTHER_ENCRYPTION_KEY}"))
    assert len(settings.encryption_keys) == 2
    assert all(len(k) == 32 for k in settings.encryption_keys)
    assert settings.encryption_keys[0] != settings.encryption_keys[1]


@pytest.mark.parametrize(("uri", "complaint"), [
    ("http://broker.example.com/auth/callback", "https"),
    ("https://broker.example.com/auth/callback?x=1", "query"),
    ("https://broker.example.com/auth/callback?", "query"),
    ("https://broker.example.com/auth/callback#top", "fragment"),
    ("https://broker.example.com/" + "a" * 490, "512"),
    ("https\uff1a//broker.example.com/auth/callback", "ASCII"),   # full-width colon
    ("https://broker.example.com\uff0fauth/callback", "ASCII"),   # full-width slash
    ("https://broker.example.com/auth/call back", "ASCII"),
    ("https://broker.example.com", "path"),
    ("https://broker.example.com/", "path"),
    ("/auth/callback", "host"),
])
def test_redirect_uri_rules(uri: str, complaint: str) -> None:
    problems = problems_for(valid_env(TIKTOK_REDIRECT_URI=uri))
    redirect = [p for p in problems if p.startswith("TIKTOK_REDIRECT_URI")]
    assert redirect and complaint in " ".join(redirect), problems


def test_redirect_uri_of_511_characters_is_accepted() -> None:
    uri = "https://broker.example.com/" + "a" * (511 - len("https://broker.example.com/"))
    assert len(uri) == 511
    assert Settings.from_env(valid_env(TIKTOK_REDIRECT_URI=uri)).redirect_uri == uri


def test_http_redirect_uri_is_allowed_in_development() -> None:
    env = valid_env(BROKER_ENV="development",
                         TIKTOK_REDIRECT_URI="http://127.0.0.1:8000/auth/callback")
    settings = Settings.from_env(env)
    assert settings.redirect_uri == "http://127.0.0.1:8000/auth/callback"
    assert not settings.public_is_https


@pytest.mark.parametrize("name", ["TIKTOK_CLIENT_SECRTE", "JWT_SIGNNG_KEY", "SPA_ORIGIN"])
def test_unknown_variables_under_checked_prefixes_are_refused(name: str) -> None:
    problems = problems_for(valid_env(**{name: "x"}))
    assert f"{name}: unknown variable (a typo?)" in problems


def test_unrelated_variables_are_ignored() -> None:
    Settings.from_env(valid_env(HOME="/root", PATH="/usr/bin", REDIS_HOST="x"))


def test_spa_origins_default_to_the_origin_of_spa_url() -> None:
    settings = Settings.from_env(valid_env(SPA_URL="https://App.Example.com:8443/app/"))
    assert settings.spa_origins == ("https://app.example.com:8443",)


def test_spa_origins_are_parsed_and_must_be_origins() -> None:
    settings = Settings.from_env(valid_env(
        SPA_ORIGINS="https://a.example.com, https://B.example.com:8443/"))
    assert settings.spa_origins == ("https://a.example.com", "https://b.example.com:8443")
    problems = problems_for(valid_env(SPA_ORIGINS="https://a.example.com/path"))
    assert any(p.startswith("SPA_ORIGINS") for p in problems)


def test_production_refuses_an_http_spa() -> None:
    """An http SPA would receive the JWT in the clear (development may use http)."""
    for env, field in ((valid_env(SPA_URL="http://app.example.com/"), "SPA_URL"),
                       (valid_env(SPA_URL=""), "SPA_URL"),
                       (valid_env(SPA_ORIGINS="https://a.example.com,http://localhost:5173"),
                        "SPA_ORIGINS")):
        assert any(p.startswith(f"{field}:") for p in problems_for(env)), env
    dev = valid_env(BROKER_ENV="development", SPA_URL="http://localhost:5173/",
                    SPA_ORIGINS="http://localhost:5173,http://127.0.0.1:5173")
    assert Settings.from_env(dev).spa_origins[1] == "http://127.0.0.1:5173"


def test_samesite_none_needs_an_https_broker() -> None:
    dev = valid_env(BROKER_ENV="development",
                         TIKTOK_REDIRECT_URI="http://127.0.0.1:8000/auth/callback",
                         REFRESH_COOKIE_SAMESITE="None")
    problems = problems_for(dev)
    assert any(p.startswith("REFRESH_COOKIE_SAMESITE") for p in problems)
    settings = Settings.from_env(valid_env(REFRESH_COOKIE_SAMESITE="None"))
    assert settings.refresh_cookie_samesite == "None"


def test_samesite_accepts_only_known_values() -> None:
    problems = problems_for(valid_env(REFRESH_COOKIE_SAMESITE="lax-ish"))
    assert any(p.startswith("REFRESH_COOKIE_SAMESITE") for p in problems)


@pytest.mark.parametrize(("value", "ok"), [
    (str(5 * MIB - 1), False), (str(5 * MIB), True), (str(64 * MIB), True),
    (str(64 * MIB + 1), False), ("ten", False),
])
def test_upload_chunk_size_bounds(value: str, ok: bool) -> None:
    env = valid_env(UPLOAD_CHUNK_SIZE=value)
    if ok:
        assert Settings.from_env(env).upload_chunk_size == int(value)
    else:
        assert any(p.startswith("UPLOAD_CHUNK_SIZE") for p in problems_for(env))


def test_jwt_issuer_defaults_to_the_origin_of_the_redirect_uri() -> None:
    settings = Settings.from_env(valid_env(
        TIKTOK_REDIRECT_URI="https://Broker.Example.com:8443/auth/callback"))
    assert settings.jwt_issuer == "https://broker.example.com:8443"
    assert settings.jwt_audience == "tiktok-broker"
    explicit = Settings.from_env(valid_env(JWT_ISSUER="https://issuer.example",
                                                JWT_AUDIENCE="my-spa"))
    assert (explicit.jwt_issuer, explicit.jwt_audience) == ("https://issuer.example", "my-spa")


def test_secrets_never_reach_the_repr() -> None:
    env = valid_env(REDIS_URL="redis://:redis-password-9f8e7d@redis.internal:6379/0")
    settings = Settings.from_env(env)
    text = repr(settings) + str(settings)
    assert "awkey123" in text  # the repr is still useful
    for secret in (env["TIKTOK_CLIENT_SECRET"], TEST_JWT_SECRET, TEST_ENCRYPTION_KEY,
                   "redis-password-9f8e7d"):
        assert secret not in text
    for key in settings.encryption_keys:
        assert repr(key) not in text


def test_config_errors_do_not_echo_secret_values() -> None:
    env = valid_env(TOKEN_ENCRYPTION_KEYS="secret-looking-but-bad-key-value",
                         JWT_SIGNING_KEY="short-but-secret")
    text = str(ConfigError(problems_for(env)))
    assert "secret-looking-but-bad-key-value" not in text
    assert "short-but-secret" not in text


def test_development_generates_missing_secrets_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    env = valid_env(BROKER_ENV="development", JWT_SIGNING_KEY="", TOKEN_ENCRYPTION_KEYS="",
                         TIKTOK_REDIRECT_URI="http://127.0.0.1:8000/auth/callback")
    with caplog.at_level(logging.WARNING, logger="broker.config.settings"):
        first = Settings.from_env(env)
        second = Settings.from_env(env)
    assert first.signing_keys and len(first.encryption_keys) == 1
    assert first.signing_keys[0].kid != second.signing_keys[0].kid  # random each time
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("JWT_SIGNING_KEY" in w for w in warnings)
    assert any("TOKEN_ENCRYPTION_KEYS" in w for w in warnings)


def test_development_still_requires_the_client_credentials() -> None:
    env = valid_env(BROKER_ENV="development", TIKTOK_CLIENT_SECRET="",
                         TIKTOK_REDIRECT_URI="http://127.0.0.1:8000/auth/callback")
    assert "TIKTOK_CLIENT_SECRET: required" in problems_for(env)


def test_tiktok_urls_must_be_https_in_production() -> None:
    problems = problems_for(valid_env(TIKTOK_API_URL="http://127.0.0.1:9000"))
    assert any(p.startswith("TIKTOK_API_URL") for p in problems)


def test_scopes_are_comma_separated_names() -> None:
    settings = Settings.from_env(valid_env(TIKTOK_SCOPES="user.info.basic, video.publish"))
    assert settings.scopes == ("user.info.basic", "video.publish")
    problems = problems_for(valid_env(TIKTOK_SCOPES="user.info.basic,bad scope!"))
    assert any(p.startswith("TIKTOK_SCOPES") for p in problems)


def test_redis_url_scheme_is_checked() -> None:
    problems = problems_for(valid_env(REDIS_URL="http://localhost:6379"))
    assert any(p.startswith("REDIS_URL") for p in problems)


@pytest.mark.parametrize(("name", "value"), [
    ("TIKTOK_REDIRECT_URI", "https://[broker.example.com/auth/callback"),  # unclosed IPv6 bracket
    ("SPA_URL", "https://app.example.com\uff0fx/"),                        # NFKC-changed netloc
    ("SPA_ORIGINS", "https://[::1"),
    ("TIKTOK_AUTH_URL", "https://[tiktok/auth"),
    ("REDIS_URL", "redis://[redis:6379/0"),
])
def test_unparseable_urls_are_reported_not_crashed_on(name: str, value: str) -> None:
    problems = problems_for(valid_env(**{name: value}))
    assert any(p.startswith(name) for p in problems), problems


@pytest.mark.parametrize("name", ["<x", "<path:p>", "a b", "x?y", "x#y", "%2e", ".hidden",
                                  "a/b"])
def test_verification_file_names_are_plain_file_names(name: str) -> None:
    problems = problems_for(valid_env(TIKTOK_VERIFICATION_FILES=f"{name}=content"))
    assert any(p.startswith("TIKTOK_VERIFICATION_FILES") for p in problems), problems


def test_verification_files_are_parsed() -> None:
    settings = Settings.from_env(valid_env(
        TIKTOK_VERIFICATION_FILES="tiktokAbC123.txt=tiktok-developers-site-verification=xyz"))
    assert dict(settings.verification_files) == {
        "tiktokAbC123.txt": "tiktok-developers-site-verification=xyz"}


def test_an_upper_case_https_redirect_uri_counts_as_https() -> None:
    settings = Settings.from_env(valid_env(
        TIKTOK_REDIRECT_URI="HTTPS://broker.example.com/auth/callback",
        REFRESH_COOKIE_SAMESITE="None"))
    assert settings.public_is_https  # so cookies are Secure and HSTS is sent


def test_a_periodic_jwt_secret_is_refused() -> None:
    problems = problems_for(valid_env(JWT_SIGNING_KEY="abcdefghij" * 4))
    assert any(p.startswith("JWT_SIGNING_KEY") and "repetitive" in p for p in problems)
