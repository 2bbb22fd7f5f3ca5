"""The per-app services: every long-lived object, built once in the factory with narrow
arguments and reached through `current_app` (Flask's `app.extensions`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import redis
from flask import current_app

from broker.auth.jwts import JwtService
from broker.auth.login import Login, LoginPolicy
from broker.auth.sessions import SessionStore
from broker.auth.transactions import TransactionStore
from broker.clock import Clock
from broker.config.settings import Settings
from broker.grants import GrantKeeper, GrantStore
from broker.posting.budget import CallBudget
from broker.posting.publisher import PostingPolicy, Publisher
from broker.posting.records import PublishStore
from broker.posting.uploads import Uploader
from broker.profiles import ProfileService
from broker.storage.connection import connect
from broker.storage.vault import Vault
from broker.tiktok import TikTokClient
from broker.tiktok.client import CallNote, unobserved
from broker.tiktok.content_posting import ContentPosting
from broker.webhooks import WebhookReceiver

EXTENSION = "tiktok_broker"


@dataclass(frozen=True)
class Observers:
    """Where the services report what they did (broker.web.metrics); silent by default."""

    tiktok_call: Callable[[str], AbstractContextManager[CallNote]] = unobserved
    refresh: Callable[[str], None] = lambda outcome: None
    webhook: Callable[[str, str], None] = lambda event, result: None


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    redis: redis.Redis
    tiktok: TikTokClient
    sessions: SessionStore
    grants: GrantKeeper
    jwts: JwtService
    profiles: ProfileService
    login: Login
    publisher: Publisher
    uploader: Uploader
    webhooks: WebhookReceiver

    def store_ready(self) -> bool:
        """Whether Redis answers right now and takes writes (a replica does not)."""
        try:
            role = self.redis.role()
        except redis.exceptions.RedisError:
            return False
        return bool(role) and str(role[0]) == "master"


def build_services(settings: Settings, clock: Clock,
                   observers: Observers = Observers()) -> Services:
    """Wire the services for one app from its settings (no I/O happens here)."""
    client = connect(settings.redis_url)
    vault = Vault(settings.encryption_keys)
    tiktok = TikTokClient(
        client_key=settings.client_key, client_secret=settings.client_secret,
        redirect_uri=settings.redirect_uri, auth_url=settings.auth_url, api_url=settings.api_url,
        scopes=settings.scopes, pkce=settings.pkce == "hex", timeout=settings.tiktok_timeout,
        max_concurrency=settings.tiktok_max_concurrency, clock=clock,
        observe=observers.tiktok_call)
    sessions = SessionStore(client, clock)
    grants = GrantKeeper(GrantStore(client, vault, clock), tiktok, client, clock,
                         on_grant_lost=sessions.end_all, on_refresh=observers.refresh)
    profiles = ProfileService(client, grants, tiktok, settings.profile_cache_ttl)
    jwts = JwtService(settings.signing_keys, issuer=settings.jwt_issuer,
                      audience=settings.jwt_audience, ttl=settings.jwt_ttl, clock=clock)
    posting, records = ContentPosting(tiktok), PublishStore(client, vault, clock)
    publisher = Publisher(
        tiktok=posting, grants=grants, records=records, budget=CallBudget(client, clock),
        redis_client=client, clock=clock,
        policy=PostingPolicy(settings.audited, settings.verified_url_prefixes,
                             settings.upload_chunk_size))

    def forget_user(open_id: str) -> None:
        """Drop everything held for a user: TikTok tokens, sessions, cached profile and info."""
        grants.store.delete(open_id)
        sessions.end_all(open_id)
        profiles.forget(open_id)
        publisher.forget(open_id)

    login = Login(
        tiktok=tiktok, transactions=TransactionStore(client, vault, settings.state_ttl),
        grants=grants, profiles=profiles, sessions=sessions, jwts=jwts, clock=clock,
        policy=LoginPolicy(settings.session_ttl, settings.token_delivery,
                           settings.login_code_ttl, settings.scopes),
        forget_user=forget_user)
    webhooks = WebhookReceiver(
        client_key=settings.client_key, client_secret=settings.client_secret,
        tolerance=settings.webhook_tolerance, redis_client=client, clock=clock, records=records,
        grants=grants.store, forget_user=forget_user, on_delivery=observers.webhook)
    return Services(
        settings=settings, clock=clock, redis=client, tiktok=tiktok, sessions=sessions,
        grants=grants, jwts=jwts, profiles=profiles, login=login, publisher=publisher,
        uploader=Uploader(posting, records, client), webhooks=webhooks)


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = current_app.extensions[EXTENSION]
    return found
