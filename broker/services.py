"""The per-app services: every long-lived object, built once in the factory with narrow
arguments and reached through `current_app` (Flask's `app.extensions`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import limits
import redis
from flask import current_app

from broker.accounts.acting import Acting
from broker.accounts.connect import Connector
from broker.accounts.keys import ServiceKeyStore
from broker.accounts.links import AccountStore
from broker.accounts.manage import ConnectedAccounts
from broker.auth.gate import Gate
from broker.auth.jwts import REMEMBERED, JwtService
from broker.auth.login import Login, LoginPolicy
from broker.auth.sessions import SessionStore
from broker.auth.transactions import TransactionStore
from broker.clock import Clock
from broker.config.settings import Settings
from broker.grants import GrantKeeper, GrantStore
from broker.jobs.events import AppEvents
from broker.jobs.idempotency import IdempotencyStore
from broker.jobs.queue import JobQueue
from broker.jobs.records import PostStore
from broker.jobs.runner import PostRunner, RunPolicy
from broker.jobs.scheduler import PostScheduler
from broker.jobs.tracking import PostTracker
from broker.posting.budget import CallBudget
from broker.posting.publisher import PostingPolicy, Publisher
from broker.posting.records import PublishStore
from broker.posting.uploads import Uploader
from broker.profiles import ProfileService
from broker.sources.fetcher import SourceFetcher
from broker.storage.connection import connect
from broker.storage.vault import Vault
from broker.tiktok import TikTokClient
from broker.tiktok.client import CallNote, unobserved
from broker.tiktok.content_posting import ContentPosting
from broker.tiktok.display import APP_LIMIT_PER_MINUTE, Display
from broker.videos.budget import AppBudget
from broker.videos.library import VideoLibrary
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
    videos: VideoLibrary
    idempotency: IdempotencyStore
    posts: PostScheduler
    runner: PostRunner
    events: AppEvents
    tracker: PostTracker
    service_keys: ServiceKeyStore
    acting: Acting
    connector: Connector
    accounts: ConnectedAccounts
    gate: Gate

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
    sessions = SessionStore(client, clock, vault, grace=settings.refresh_grace)
    links = AccountStore(client, clock)
    queue = JobQueue(connect(settings.redis_url, decode_responses=False))
    events = AppEvents(url=settings.app_webhook_url, secret=settings.app_webhook_secret,
                       redis_client=client, queue=queue, clock=clock)

    def grant_lost(open_id: str) -> None:
        """TikTok refused the grant (or it is gone): sessions end, connected accounts show it,
        and the app's backend hears of it when one of its users holds the account."""
        sessions.end_all(open_id)
        links.mark_reauth(open_id)
        if links.account(open_id) is not None:
            events.emit("account.reauth_required", {"account_id": open_id})

    grants = GrantKeeper(GrantStore(client, vault, clock), tiktok, client, clock,
                         on_grant_lost=grant_lost, on_refresh=observers.refresh)
    profiles = ProfileService(client, grants, tiktok, settings.profile_cache_ttl)
    jwts = JwtService(settings.signing_keys, issuer=settings.jwt_issuer,
                      audience=settings.jwt_audience, ttl=settings.jwt_ttl, clock=clock,
                      remember=REMEMBERED)
    posting, records = ContentPosting(tiktok), PublishStore(client, vault, clock)
    publisher = Publisher(
        tiktok=posting, grants=grants, records=records, budget=CallBudget(client, clock),
        redis_client=client, clock=clock,
        policy=PostingPolicy(settings.audited, settings.verified_url_prefixes,
                             settings.upload_chunk_size))
    videos = VideoLibrary(client, grants, Display(tiktok),
                          AppBudget(client, clock, APP_LIMIT_PER_MINUTE), clock)

    post_store = PostStore(client, vault, clock, settings.post_record_days)
    tracker = PostTracker(post_store, events, publisher, queue, clock)
    fetcher = SourceFetcher(allowed_hosts=settings.media_source_hosts,
                            timeout=settings.media_source_timeout,
                            ca_file=settings.media_source_ca_file)
    uploader = Uploader(posting, records, client)

    def drop_grant(open_id: str) -> None:
        """Drop the TikTok tokens held for an account, and what was cached with them."""
        grants.store.delete(open_id)
        profiles.forget(open_id)
        publisher.forget(open_id)
        videos.forget(open_id)

    def forget_user(open_id: str) -> bool:
        """A user's sessions end; their TikTok tokens go too unless an app user holds the
        account (broker.accounts). True when the tokens were dropped."""
        sessions.end_all(open_id)
        if links.held(open_id):
            return False
        drop_grant(open_id)
        return True

    def remove_user(open_id: str) -> None:
        """TikTok removed the grant: everything held for the account goes, links show it."""
        sessions.end_all(open_id)
        drop_grant(open_id)
        links.mark_reauth(open_id)

    login = Login(
        tiktok=tiktok, transactions=TransactionStore(client, vault, settings.state_ttl),
        grants=grants, profiles=profiles, sessions=sessions, jwts=jwts, clock=clock,
        policy=LoginPolicy(settings.session_ttl, settings.token_delivery,
                           settings.login_code_ttl, settings.scopes),
        forget_user=forget_user)
    webhooks = WebhookReceiver(
        client_key=settings.client_key, client_secret=settings.client_secret,
        tolerance=settings.webhook_tolerance, redis_client=client, clock=clock, records=records,
        grants=grants.store, forget_user=remove_user,
        end_sessions_before=sessions.end_created_before, on_delivery=observers.webhook,
        on_publish=tracker.news,
        on_removed=lambda open_id, reason: events.emit(
            "account.removed", {"account_id": open_id, "reason": reason}))
    keys = ServiceKeyStore(client, clock)
    gate = Gate(client, clock, tuple(limits.parse_many(settings.rate_limit_api))
                if settings.rate_limit_enabled else ())
    return Services(
        gate=gate, settings=settings, clock=clock, redis=client, tiktok=tiktok, sessions=sessions,
        grants=grants, jwts=jwts, profiles=profiles, login=login, publisher=publisher,
        uploader=uploader, webhooks=webhooks, videos=videos,
        service_keys=keys, acting=Acting(keys, links),
        connector=Connector(redis_client=client, vault=vault, ttl=settings.state_ttl,
                            login=login, profiles=profiles, accounts=links,
                            on_event=events.emit),
        accounts=ConnectedAccounts(
            accounts=links, sessions=sessions, grants=grants, login=login, jwts=jwts,
            clock=clock, token_issue=settings.service_token_issue, drop_grant=drop_grant),
        idempotency=IdempotencyStore(client, clock), events=events, tracker=tracker,
        posts=PostScheduler(store=post_store, queue=queue, fetcher=fetcher, clock=clock,
                            audited=settings.audited, verified=settings.verified_url_prefixes),
        runner=PostRunner(
            store=post_store, queue=queue, publisher=publisher, uploader=uploader,
            fetcher=fetcher, tracker=tracker, redis_client=client, clock=clock,
            policy=RunPolicy(settings.post_lease, settings.post_retry_base,
                             settings.post_cap_retry, settings.upload_chunk_size)))


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = current_app.extensions[EXTENSION]
    return found
