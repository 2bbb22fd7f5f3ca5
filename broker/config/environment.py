"""Reading the configuration from environment variables: parse, coerce, and collect every problem.

oauth2-proxy's `validation` style: nothing stops at the first mistake, and a ConfigError lists
them all, so an operator fixes a configuration in one go. `read` returns only what the
environment sets or derives; everything else takes its default from `Settings`, where every
default is written once.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import limits

from broker.config import accounts, survival
from broker.config.keys import (
    SigningKey,
    generate_encryption_key,
    load_encryption_keys,
    load_signing_keys,
)
from broker.config.parsing import VariableReader, positive_float, split
from broker.config.urls import is_web_url, origin_of, redirect_uri_problems

log = logging.getLogger(__name__)
MIB = 1024 * 1024
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RATE_RULE = "a rate limit such as 30/minute, or several joined by ; (10/second;300/minute)"

# Every variable the broker reads. Unknown names under these prefixes are typos and refused.
CHECKED_PREFIXES = ("TIKTOK_", "JWT_", "SPA_")
KNOWN_VARIABLES = frozenset({
    "TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "TIKTOK_REDIRECT_URI", "TIKTOK_SCOPES",
    "TIKTOK_AUTH_URL", "TIKTOK_API_URL", "TIKTOK_PKCE", "TIKTOK_TIMEOUT", "TIKTOK_AUDITED",
    "TIKTOK_MAX_CONCURRENCY",
    "TIKTOK_VERIFIED_URL_PREFIXES", "TIKTOK_VERIFICATION_FILES",
    "REDIS_URL", "SPA_URL", "SPA_ORIGINS", "SPA_TOKEN_DELIVERY",
    "JWT_SIGNING_KEY", "JWT_TTL", "JWT_ISSUER", "JWT_AUDIENCE",
    "TOKEN_ENCRYPTION_KEYS", "SESSION_TTL", "TRUSTED_PROXIES", "BROKER_ENV",
    "STATE_TTL", "LOGIN_CODE_TTL", "PROFILE_CACHE_TTL", "REFRESH_COOKIE_SAMESITE",
    "UPLOAD_CHUNK_SIZE", "WEBHOOK_TOLERANCE",
    "RATE_LIMIT_ENABLED", "RATE_LIMIT_LOGIN", "RATE_LIMIT_API",
}) | survival.VARIABLES | accounts.VARIABLES


class ConfigError(Exception):
    """Raised with every configuration problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def read(env: Mapping[str, str]) -> dict[str, Any]:
    """The Settings fields `env` sets or derives; raise ConfigError listing every problem."""
    reader = _Reader(env)
    values = reader.values()
    if reader.problems:
        raise ConfigError(reader.problems)
    return {name: value for name, value in values.items() if value is not None}


def parse_rate_limit(raw: str) -> str:
    """Check a limit in the `limits` syntax ("30/minute", "10/second;300/minute")."""
    items = limits.parse_many(raw)  # ValueError when it does not parse
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(raw)
    return raw


def parse_bind(raw: str) -> str:
    """A `host:port` listening address (IPv6 hosts in brackets)."""
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(raw)
    return raw


class _Reader(VariableReader):
    """The broker's variables, each read once; every reader returns None for a variable that is
    not set, so its field keeps the default."""

    def values(self) -> dict[str, Any]:
        for name in sorted(self.env):
            if name.startswith(CHECKED_PREFIXES) and name not in KNOWN_VARIABLES:
                self.problems.append(f"{name}: unknown variable (a typo?)")
        environment = self.choice("BROKER_ENV", ("production", "development"))
        dev = environment == "development"
        redirect_uri = self.require("TIKTOK_REDIRECT_URI")
        uri_problems = redirect_uri_problems(redirect_uri, allow_http=dev) if redirect_uri else []
        self.problems += uri_problems
        public_https = redirect_uri[:8].lower() == "https://"
        samesite = self.choice("REFRESH_COOKIE_SAMESITE", ("Lax", "Strict", "None"))
        if samesite == "None" and not public_https:
            self.problems.append("REFRESH_COOKIE_SAMESITE: None needs an https TIKTOK_REDIRECT_URI")
        api_url = self.url("TIKTOK_API_URL", dev)
        return {
            "client_key": self.require("TIKTOK_CLIENT_KEY"),
            "client_secret": self.require("TIKTOK_CLIENT_SECRET"),
            "redirect_uri": redirect_uri,
            "scopes": self.scopes(),
            "auth_url": self.url("TIKTOK_AUTH_URL", dev),
            "api_url": api_url.rstrip("/") if api_url else None,
            "pkce": self.choice("TIKTOK_PKCE", ("hex", "off")),
            "tiktok_timeout": self.parse("TIKTOK_TIMEOUT", positive_float, "seconds, above 0"),
            "tiktok_max_concurrency": self.integer("TIKTOK_MAX_CONCURRENCY", 1, 1000),
            "redis_url": self.redis_url(),
            **self.spa(dev),
            "token_delivery": self.choice("SPA_TOKEN_DELIVERY", ("fragment", "handoff")),
            "signing_keys": self.signing_keys(dev),
            "jwt_ttl": self.integer("JWT_TTL", 30, 86_400),
            "jwt_issuer": self.get("JWT_ISSUER")
            or (origin_of(redirect_uri) if redirect_uri and not uri_problems else ""),
            "jwt_audience": self.get("JWT_AUDIENCE") or None,
            "encryption_keys": self.encryption_keys(dev),
            "session_ttl": self.integer("SESSION_TTL", 60, 31_536_000),
            "trusted_proxies": self.integer("TRUSTED_PROXIES", 0, 10),
            "environment": environment,
            "state_ttl": self.integer("STATE_TTL", 30, 3600),
            "login_code_ttl": self.integer("LOGIN_CODE_TTL", 5, 600),
            "profile_cache_ttl": self.integer("PROFILE_CACHE_TTL", 0, 86_400),
            "refresh_cookie_samesite": samesite,
            "refresh_grace": self.integer("REFRESH_GRACE_SECONDS", 0, 60),
            "audited": self.flag("TIKTOK_AUDITED"),
            "verified_url_prefixes": self.verified_prefixes(),
            "verification_files": self.verification_files(),
            "upload_chunk_size": self.integer("UPLOAD_CHUNK_SIZE", 5 * MIB, 64 * MIB),
            "webhook_tolerance": self.integer("WEBHOOK_TOLERANCE", 1, 86_400),
            # Off unless asked for in development (one developer, the sandbox).
            "rate_limit_enabled": self.flag("RATE_LIMIT_ENABLED") if not dev
            else self.flag("RATE_LIMIT_ENABLED") is True,
            "rate_limit_login": self.parse("RATE_LIMIT_LOGIN", parse_rate_limit, RATE_RULE),
            "rate_limit_api": self.parse("RATE_LIMIT_API", parse_rate_limit, RATE_RULE),
            "metrics_bind": self.parse("METRICS_BIND", parse_bind, "host:port (127.0.0.1:9100)"),
            **survival.read(self, dev),
            **accounts.read(self, dev),
        }

    def spa(self, dev: bool) -> dict[str, Any]:
        """SPA_URL and SPA_ORIGINS; the origins default to SPA_URL's when only it is set.

        Outside development both must be https: an http SPA would hand its JWT to anyone on the
        network path (so production has no default SPA_URL).
        """
        spa_url = self.get("SPA_URL")
        spa_ok = is_web_url(spa_url)
        if spa_url and not spa_ok:
            self.problems.append("SPA_URL: an absolute http(s) URL")
        elif not dev and not spa_url:
            self.problems.append("SPA_URL: required in production (the SPA's https URL)")
        elif not dev and spa_url[:8].lower() != "https://":
            self.problems.append("SPA_URL: must be https (http only in development)")
        listed = split(self.get("SPA_ORIGINS"))
        origins = listed or ((origin_of(spa_url),) if spa_ok else ())
        for origin in listed:
            if not is_web_url(origin) or origin_of(origin) != origin.rstrip("/").lower():
                self.problems.append(f"SPA_ORIGINS: {origin!r} is not an origin (scheme://host[:port])")
            elif not dev and origin[:8].lower() != "https://":
                self.problems.append(f"SPA_ORIGINS: {origin!r} must be https (http only in "
                                     "development)")
        return {"spa_url": spa_url or None,
                "spa_origins": tuple(o.rstrip("/").lower() for o in origins) or None}

    def scopes(self) -> tuple[str, ...] | None:
        scopes = split(self.get("TIKTOK_SCOPES"))
        for scope in scopes:
            if not scope.replace(".", "").replace("_", "").isalnum() or not scope.isascii():
                self.problems.append(f"TIKTOK_SCOPES: {scope!r} is not a scope name")
        return scopes or None

    def url(self, name: str, dev: bool) -> str | None:
        value = self.get(name)
        if value and (not is_web_url(value) or (urlsplit(value).scheme == "http" and not dev)):
            self.problems.append(f"{name}: an absolute https URL (http only in development)")
        return value or None

    def redis_url(self) -> str | None:
        value = self.get("REDIS_URL")
        try:
            scheme = urlsplit(value).scheme
        except ValueError:
            scheme = ""
        if value and scheme not in ("redis", "rediss", "unix", "redis+sentinel"):
            self.problems.append(
                "REDIS_URL: a redis://, rediss://, unix:// or redis+sentinel:// URL")
        return value or None

    def signing_keys(self, dev: bool) -> tuple[SigningKey, ...]:
        raw = self.env.get("JWT_SIGNING_KEY", "")
        if not raw.strip():
            if not dev:
                self.problems.append("JWT_SIGNING_KEY: required in production")
                return ()
            log.warning("DEVELOPMENT MODE: JWT_SIGNING_KEY not set; using a random key "
                        "(JWTs die with this process; never do this in production)")
            raw = secrets.token_urlsafe(48)
        try:
            return load_signing_keys(raw)
        except ValueError as exc:
            self.problems.append(f"JWT_SIGNING_KEY: {exc}")
            return ()

    def encryption_keys(self, dev: bool) -> tuple[bytes, ...]:
        raw = self.get("TOKEN_ENCRYPTION_KEYS")
        if not raw:
            if not dev:
                self.problems.append("TOKEN_ENCRYPTION_KEYS: required in production "
                                     "(python -m broker generate-keys prints fresh ones)")
                return ()
            log.warning("DEVELOPMENT MODE: TOKEN_ENCRYPTION_KEYS not set; using a random key "
                        "(stored TikTok tokens become unreadable on restart)")
            raw = generate_encryption_key()
        keys, unreadable = load_encryption_keys(raw)
        self.problems += [f"TOKEN_ENCRYPTION_KEYS: key {position} is not URL-safe base64 of 32 "
                          "bytes" for position in unreadable]
        return keys

    def verified_prefixes(self) -> tuple[str, ...] | None:
        prefixes = split(self.get("TIKTOK_VERIFIED_URL_PREFIXES"))
        for prefix in prefixes:
            if "://" in prefix and not prefix.startswith("https://"):
                self.problems.append(f"TIKTOK_VERIFIED_URL_PREFIXES: {prefix!r} must be https")
        return prefixes or None

    def verification_files(self) -> dict[str, str] | None:
        files: dict[str, str] = {}
        for pair in split(self.get("TIKTOK_VERIFICATION_FILES")):
            name, sep, content = pair.partition("=")
            name = name.strip()
            # A plain file name: anything else would be read as a URL rule (`<path:x>`).
            if not sep or not _FILE_NAME.fullmatch(name):
                self.problems.append(f"TIKTOK_VERIFICATION_FILES: {pair!r} is not name=content")
                continue
            files[name] = content.strip()
        return files or None
