"""Reading Settings from environment variables: parse, coerce, and collect every problem.

oauth2-proxy's `validation` style: nothing stops at the first mistake, and a ConfigError lists
them all, so an operator fixes a configuration in one go.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from broker.keys import SigningKey, load_signing_keys
from broker.ratelimits import RATE_RULE, parse_rate_limit
from broker.settings import MIB, ConfigError, Settings, generate_encryption_key, origin_of

log = logging.getLogger(__name__)
T = TypeVar("T")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

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
})


def parse_environment(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (default: the process environment); raise ConfigError."""
    return _Parser(os.environ if environ is None else environ).settings()


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


class _Parser:
    """Reads each variable once, recording problems instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str, default: str = "") -> str:
        return self.env.get(name, default).strip()

    def parse(self, name: str, default: T, convert: Callable[[str], T], rule: str) -> T:
        raw = self.get(name)
        if not raw:
            return default
        try:
            return convert(raw)
        except (ValueError, TypeError):
            self.problems.append(f"{name}: {rule}")
            return default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        def convert(raw: str) -> int:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
            return value
        return self.parse(name, default, convert, f"a whole number from {low} to {high}")

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        def convert(raw: str) -> str:
            if raw not in options:
                raise ValueError
            return raw
        return self.parse(name, default, convert, "one of " + ", ".join(options))

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            self.problems.append(f"{name}: required")
        return value

    def settings(self) -> Settings:
        for name in sorted(self.env):
            if name.startswith(CHECKED_PREFIXES) and name not in KNOWN_VARIABLES:
                self.problems.append(f"{name}: unknown variable (a typo?)")
        environment = self.choice("BROKER_ENV", "production", ("production", "development"))
        dev = environment == "development"
        redirect_uri = self.require("TIKTOK_REDIRECT_URI")
        uri_problems = redirect_uri_problems(redirect_uri, allow_http=dev) if redirect_uri else []
        self.problems += uri_problems
        spa_url = self.get("SPA_URL", "http://localhost:5173/")
        spa_ok = _is_web_url(spa_url)
        if not spa_ok:
            self.problems.append("SPA_URL: an absolute http(s) URL")
        origins = _split(self.get("SPA_ORIGINS")) or ((origin_of(spa_url),) if spa_ok else ())
        for origin in origins:
            if not _is_web_url(origin) or origin_of(origin) != origin.rstrip("/").lower():
                self.problems.append(f"SPA_ORIGINS: {origin!r} is not an origin (scheme://host[:port])")
        public_https = redirect_uri[:8].lower() == "https://"
        samesite = self.choice("REFRESH_COOKIE_SAMESITE", "Lax", ("Lax", "Strict", "None"))
        if samesite == "None" and not public_https:
            self.problems.append("REFRESH_COOKIE_SAMESITE: None needs an https TIKTOK_REDIRECT_URI")
        settings = Settings(
            client_key=self.require("TIKTOK_CLIENT_KEY"),
            client_secret=self.require("TIKTOK_CLIENT_SECRET"),
            redirect_uri=redirect_uri,
            scopes=self.scopes(),
            auth_url=self.url("TIKTOK_AUTH_URL", Settings.auth_url, dev),
            api_url=self.url("TIKTOK_API_URL", Settings.api_url, dev).rstrip("/"),
            pkce=self.choice("TIKTOK_PKCE", "hex", ("hex", "off")),
            tiktok_timeout=self.parse("TIKTOK_TIMEOUT", 10.0, _positive_float, "seconds, above 0"),
            tiktok_max_concurrency=self.integer("TIKTOK_MAX_CONCURRENCY", 6, 1, 1000),
            redis_url=self.redis_url(),
            spa_url=spa_url,
            spa_origins=tuple(o.rstrip("/").lower() for o in origins),
            token_delivery=self.choice("SPA_TOKEN_DELIVERY", "fragment", ("fragment", "handoff")),
            signing_keys=self.signing_keys(dev),
            jwt_ttl=self.integer("JWT_TTL", 900, 30, 86_400),
            jwt_issuer=self.get("JWT_ISSUER")
            or (origin_of(redirect_uri) if redirect_uri and not uri_problems else ""),
            jwt_audience=self.get("JWT_AUDIENCE", "tiktok-broker"),
            encryption_keys=self.encryption_keys(dev),
            session_ttl=self.integer("SESSION_TTL", 2_592_000, 60, 31_536_000),
            trusted_proxies=self.integer("TRUSTED_PROXIES", 0, 0, 10),
            environment=environment,
            state_ttl=self.integer("STATE_TTL", 600, 30, 3600),
            login_code_ttl=self.integer("LOGIN_CODE_TTL", 60, 5, 600),
            profile_cache_ttl=self.integer("PROFILE_CACHE_TTL", 60, 0, 86_400),
            refresh_cookie_samesite=samesite,
            audited=self.choice("TIKTOK_AUDITED", "false", ("true", "false")) == "true",
            verified_url_prefixes=self.verified_prefixes(),
            verification_files=self.verification_files(),
            upload_chunk_size=self.integer("UPLOAD_CHUNK_SIZE", 10 * MIB, 5 * MIB, 64 * MIB),
            webhook_tolerance=self.integer("WEBHOOK_TOLERANCE", 300, 1, 86_400),
            # Off by default in development (one developer, the sandbox); on in production.
            rate_limit_enabled=self.choice("RATE_LIMIT_ENABLED", "false" if dev else "true",
                                           ("true", "false")) == "true",
            rate_limit_login=self.parse("RATE_LIMIT_LOGIN", "30/minute", parse_rate_limit,
                                        RATE_RULE),
            rate_limit_api=self.parse("RATE_LIMIT_API", "300/minute", parse_rate_limit, RATE_RULE),
        )
        if self.problems:
            raise ConfigError(self.problems)
        return settings

    def scopes(self) -> tuple[str, ...]:
        scopes = _split(self.get("TIKTOK_SCOPES", "user.info.basic"))
        for scope in scopes:
            if not scope.replace(".", "").replace("_", "").isalnum() or not scope.isascii():
                self.problems.append(f"TIKTOK_SCOPES: {scope!r} is not a scope name")
        return scopes or ("user.info.basic",)

    def url(self, name: str, default: str, dev: bool) -> str:
        value = self.get(name, default)
        if not _is_web_url(value) or (urlsplit(value).scheme == "http" and not dev):
            self.problems.append(f"{name}: an absolute https URL (http only in development)")
        return value

    def redis_url(self) -> str:
        value = self.get("REDIS_URL", "redis://localhost:6379/0")
        try:
            scheme = urlsplit(value).scheme
        except ValueError:
            scheme = ""
        if scheme not in ("redis", "rediss", "unix", "redis+sentinel"):
            self.problems.append(
                "REDIS_URL: a redis://, rediss://, unix:// or redis+sentinel:// URL")
        return value

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
        keys = []
        for position, item in enumerate(_split(raw), start=1):
            try:
                key = base64.urlsafe_b64decode(item.encode("ascii"))
            except (binascii.Error, UnicodeEncodeError):
                key = b""
            if len(key) != 32:
                self.problems.append(f"TOKEN_ENCRYPTION_KEYS: key {position} is not URL-safe "
                                     "base64 of 32 bytes")
            keys.append(key)
        return tuple(keys)

    def verified_prefixes(self) -> tuple[str, ...]:
        prefixes = _split(self.get("TIKTOK_VERIFIED_URL_PREFIXES"))
        for prefix in prefixes:
            if "://" in prefix and not prefix.startswith("https://"):
                self.problems.append(f"TIKTOK_VERIFIED_URL_PREFIXES: {prefix!r} must be https")
        return prefixes

    def verification_files(self) -> dict[str, str]:
        files: dict[str, str] = {}
        for pair in _split(self.get("TIKTOK_VERIFICATION_FILES")):
            name, sep, content = pair.partition("=")
            name = name.strip()
            # A plain file name: anything else would be read as a URL rule (`<path:x>`).
            if not sep or not _FILE_NAME.fullmatch(name):
                self.problems.append(f"TIKTOK_VERIFICATION_FILES: {pair!r} is not name=content")
                continue
            files[name] = content.strip()
        return files


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


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # urlsplit refuses some netlocs (bad IPv6, NFKC-changed characters)
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError
    return value
