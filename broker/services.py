"""The per-app services, built once in the factory and reached through `current_app`."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app

from broker.clock import Clock
from broker.grants import GrantKeeper, GrantStore
from broker.jwts import JwtService
from broker.profiles import ProfileService
from broker.sessions import SessionStore
from broker.settings import Settings
from broker.store import connect
from broker.tiktok import TikTokClient
from broker.transactions import TransactionStore
from broker.vault import Vault

EXTENSION = "tiktok_broker"


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    redis: redis.Redis
    vault: Vault
    tiktok: TikTokClient
    sessions: SessionStore
    transactions: TransactionStore
    grants: GrantKeeper
    jwts: JwtService
    profiles: ProfileService

    def store_ready(self) -> bool:
        """Whether Redis answers right now and takes writes (a replica does not)."""
        try:
            role = self.redis.role()
        except redis.exceptions.RedisError:
            return False
        return bool(role) and str(role[0]) == "master"

    def forget_user(self, open_id: str) -> None:
        """Drop everything held for a user: TikTok tokens, sessions, cached profile."""
        self.grants.store.delete(open_id)
        self.sessions.end_all(open_id)
        self.profiles.forget(open_id)


def build_services(settings: Settings, clock: Clock) -> Services:
    """Wire the services for one app from its settings (no I/O happens here)."""
    client = connect(settings.redis_url)
    vault = Vault(settings.encryption_keys)
    tiktok = TikTokClient(
        client_key=settings.client_key, client_secret=settings.client_secret,
        redirect_uri=settings.redirect_uri, auth_url=settings.auth_url, api_url=settings.api_url,
        scopes=settings.scopes, pkce=settings.pkce == "hex", timeout=settings.tiktok_timeout,
        max_concurrency=settings.tiktok_max_concurrency,
        clock=clock)
    sessions = SessionStore(client, clock)
    grants = GrantKeeper(GrantStore(client, vault, clock), tiktok, client, clock,
                         on_grant_lost=sessions.end_all)
    return Services(
        settings=settings, clock=clock, redis=client, vault=vault, tiktok=tiktok,
        sessions=sessions, transactions=TransactionStore(client, vault, settings.state_ttl),
        grants=grants,
        jwts=JwtService(settings.signing_keys, issuer=settings.jwt_issuer,
                        audience=settings.jwt_audience, ttl=settings.jwt_ttl, clock=clock),
        profiles=ProfileService(client, grants, tiktok, settings.profile_cache_ttl),
    )


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = current_app.extensions[EXTENSION]
    return found
