"""Broker configuration: one frozen object, built once (from the environment in production).

Every default is written here, once. Reading and validating the environment is
`broker.config.environment`: every problem is reported at once and the process refuses to start
on any of them. Secrets never reach a repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from broker.config import environment
from broker.config.environment import MIB
from broker.config.keys import SigningKey


@dataclass(frozen=True)
class Settings:
    """The broker's whole configuration. Tests build their own; production uses `from_env`."""

    client_key: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...] = ("user.info.basic",)
    auth_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    api_url: str = "https://open.tiktokapis.com"
    pkce: str = "hex"
    tiktok_timeout: float = 10.0
    tiktok_max_concurrency: int = 6  # TikTok calls in flight per process (a bulkhead)
    redis_url: str = field(default="redis://localhost:6379/0", repr=False)  # may hold a password
    spa_url: str = "http://localhost:5173/"
    spa_origins: tuple[str, ...] = ("http://localhost:5173",)
    token_delivery: str = "fragment"  # noqa: S105 (a mode name, not a secret)
    signing_keys: tuple[SigningKey, ...] = field(default=(), repr=False)
    jwt_ttl: int = 900
    jwt_issuer: str = ""
    jwt_audience: str = "tiktok-broker"
    encryption_keys: tuple[bytes, ...] = field(default=(), repr=False)
    session_ttl: int = 2_592_000
    trusted_proxies: int = 0
    environment: str = "production"
    state_ttl: int = 600
    login_code_ttl: int = 60
    profile_cache_ttl: int = 60
    refresh_cookie_samesite: str = "Lax"
    refresh_grace: int = 10  # seconds a just-rotated refresh cookie still gets the same successor
    audited: bool = False
    verified_url_prefixes: tuple[str, ...] = ()
    verification_files: Mapping[str, str] = field(default_factory=dict)
    upload_chunk_size: int = 10 * MIB
    webhook_tolerance: int = 300
    rate_limit_enabled: bool = True  # inbound limits, broker.web.ratelimits
    rate_limit_login: str = "30/minute"
    rate_limit_api: str = "300/minute"
    metrics_bind: str = ""  # host:port where gunicorn serves /metrics instead of the app
    # posting that survives (broker.config.survival): post records, the worker, media, events
    post_record_days: int = 30
    post_lease: int = 60  # seconds a worker holds a running post between two renewals
    post_retry_base: int = 30  # seconds before the first retry of a transient failure (doubles)
    post_cap_retry: int = 3600  # seconds a post waits when a TikTok cap refuses it
    media_source_hosts: tuple[str, ...] = ()  # hosts exempt from the private-address check
    media_source_ca_file: str = ""  # extra CA bundle for source_url (tests, private CAs)
    media_source_timeout: int = 30  # seconds: connect and each read from a media source
    app_webhook_url: str = ""
    app_webhook_secret: str = field(default="", repr=False)
    worker_maintenance: int = 60  # seconds between the worker's registry clean-ups
    # apps with their own users (broker.config.accounts): service keys, connected accounts
    service_token_issue: bool = False  # POST /service/accounts/<id>/token answers only when on
    rate_limit_service: str = "1200/minute"  # per service key, every call it makes

    @property
    def callback_path(self) -> str:
        """The broker route TikTok redirects back to: the path of the registered redirect URI."""
        return urlsplit(self.redirect_uri).path or "/"

    @property
    def public_is_https(self) -> bool:
        """Whether the broker is served over https (then its cookies are `Secure`)."""
        return self.redirect_uri[:8].lower() == "https://"  # schemes are case-insensitive

    @property
    def development(self) -> bool:
        """BROKER_ENV=development: http allowed, random keys when unset, no rate limits."""
        return self.environment == "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse and validate the environment; raise ConfigError listing every problem."""
        return cls(**environment.read(os.environ if environ is None else environ))
