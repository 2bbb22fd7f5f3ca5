"""The user's TikTok grant: sealed in Redis, refreshed ahead of expiry, one refresh at a time.

TikTok's refresh tokens are single-use (tiktok-api.md §2.4), so two concurrent refreshes for the
same user would invalidate each other. Refreshes are serialized per user across all workers and
replicas with a Redis lock whose lease outlives the slowest token call; whoever gets the lock
re-reads the stored grant first and refreshes only if nobody else already has.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import TypeVar

import redis

from broker.clock import Clock
from broker.errors import KeysChanged, ReauthRequired, UpstreamUnavailable
from broker.storage.keyspace import redis_key
from broker.storage.vault import Vault, VaultError
from broker.tiktok import TikTokClient, TikTokGrant
from broker.tiktok.errors import TikTokApiError, TikTokOAuthError

log = logging.getLogger(__name__)
T = TypeVar("T")
LOCK_LEASE = 30.0  # seconds; a token call times out well before this


class GrantStore:
    """TikTok tokens at rest: `tb:grant:<open_id>`, AES-GCM sealed to that user, with a TTL."""

    def __init__(self, redis_client: redis.Redis, vault: Vault, clock: Clock) -> None:
        self._redis, self._vault, self._clock = redis_client, vault, clock

    def save(self, grant: TikTokGrant) -> None:
        """Store (replace) the grant atomically; it lives as long as it can still be refreshed."""
        until = grant.refresh_expires_at or grant.expires_at
        ttl = max(int(until - self._clock.now()), 1)
        sealed = self._vault.encrypt(json.dumps(dataclasses.asdict(grant)).encode(),
                                     _context(grant.open_id))
        self._redis.set(redis_key("grant", grant.open_id), sealed, ex=ttl)

    def load(self, open_id: str) -> TikTokGrant | None:
        """The stored grant, or None when absent or unreadable (then the user logs in again)."""
        try:
            return self.open(open_id)
        except KeysChanged:
            return None

    def open(self, open_id: str) -> TikTokGrant | None:
        """The stored grant, or None when absent; KeysChanged (after dropping it) when the
        broker's encryption keys can no longer read it."""
        sealed = self._redis.get(redis_key("grant", open_id))
        if sealed is None:
            return None
        try:
            fields = json.loads(self._vault.decrypt(str(sealed), _context(open_id)))
        except VaultError as exc:
            log.warning("stored grant unreadable with the configured keys, dropping it: %s", exc)
            self.delete(open_id)
            raise KeysChanged() from exc
        grant = TikTokGrant(**{**fields, "scopes": tuple(fields.get("scopes", ()))})
        if not self._vault.is_current(str(sealed)):
            self.save(grant)  # key rotation: re-seal with the current key
        return grant

    def delete(self, open_id: str) -> None:
        self._redis.delete(redis_key("grant", open_id))


def _context(open_id: str) -> str:
    return f"grant:{open_id}"


class GrantKeeper:
    """Hands out usable TikTok access tokens, refreshing them when needed."""

    def __init__(self, store: GrantStore, tiktok: TikTokClient, redis_client: redis.Redis,
                 clock: Clock, on_grant_lost: Callable[[str], None],
                 on_refresh: Callable[[str], None] = lambda outcome: None) -> None:
        self.store, self._tiktok, self._redis, self._clock = store, tiktok, redis_client, clock
        self._on_grant_lost = on_grant_lost
        # Told each refresh's outcome (done, waited, failed, reauth); broker.web.metrics counts.
        self.on_refresh = on_refresh

    def current(self, open_id: str) -> TikTokGrant:
        """A grant whose access token is not about to expire."""
        try:
            grant = self.store.open(open_id)
        except KeysChanged:
            self._on_grant_lost(open_id)
            raise
        if grant is None:
            self._on_grant_lost(open_id)
            raise ReauthRequired()
        if grant.needs_refresh(self._clock.now()):
            grant = self.refresh(open_id, stale_access_token=grant.access_token)
        return grant

    def call(self, open_id: str, action: Callable[[str], T]) -> T:
        """Run `action(access_token)`; if TikTok calls the token invalid, refresh once and retry."""
        grant = self.current(open_id)
        try:
            return action(grant.access_token)
        except TikTokApiError as exc:
            if exc.tiktok_code != "access_token_invalid":
                raise
        grant = self.refresh(open_id, stale_access_token=grant.access_token)
        return action(grant.access_token)

    def refresh(self, open_id: str, *, stale_access_token: str) -> TikTokGrant:
        """Replace the grant whose access token is `stale_access_token`, once, under the lock."""
        lock = self._redis.lock(redis_key("lock", "refresh", open_id), timeout=LOCK_LEASE,
                                blocking_timeout=LOCK_LEASE + 5, sleep=0.05)
        if not lock.acquire():
            self.on_refresh("failed")
            raise UpstreamUnavailable("Another refresh of this login is taking too long.",
                                      code="refresh_busy", headers={"Retry-After": "1"})
        outcome = "failed"
        try:
            grant = self.store.load(open_id)
            if grant is None:
                outcome = "reauth"
                self._on_grant_lost(open_id)
                raise ReauthRequired()
            if grant.access_token != stale_access_token:
                outcome = "waited"
                return grant  # someone else refreshed while we waited for the lock
            try:
                fresh = self._tiktok.refresh(grant)
            except TikTokOAuthError as exc:
                if exc.error not in ("invalid_grant", "invalid_request", "access_denied"):
                    raise
                log.info("refresh refused by TikTok (%s); ending the user's sessions", exc.error)
                outcome = "reauth"
                self.store.delete(open_id)
                self._on_grant_lost(open_id)
                raise ReauthRequired() from exc
            self.store.save(fresh)
            outcome = "done"
            return fresh
        finally:
            self.on_refresh(outcome)
            try:
                lock.release()
            except redis.exceptions.LockError:
                log.warning("refresh lock lease expired before release")
