"""Connect sessions: the one-time link the app sends its user's browser to, and what happens
when TikTok sends that browser back.

The link carries a random token (`tb:connect:<sha256(token)>`, sealed, at most 10 minutes); the
first browser to open it takes it (single use) and starts an OAuth transaction exactly like
`/login` (bound to that browser, PKCE), with TikTok's account choice always shown. The callback
links the account to the app user; no broker session or JWT is made.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import redis

from broker.accounts.links import Account, AccountStore
from broker.auth.login import Login, Started
from broker.auth.transactions import OAuthTransaction
from broker.errors import BadRequest, BrokerError
from broker.profiles import ProfileService, fields_for
from broker.storage.keyspace import digest, redis_key
from broker.storage.vault import Vault, VaultError

log = logging.getLogger(__name__)
MAX_TTL = 600  # the spec: a connect link lives at most 10 minutes


@dataclass(frozen=True)
class ConnectSession:
    """What a connect link stands for until a browser opens it."""

    app_user_id: str
    return_to: str
    scopes: tuple[str, ...]
    key_id: str  # the service key that made it (audit)


@dataclass(frozen=True)
class Link:
    """A new connect link: its token (a secret) and how long it lives."""

    token: str = field(repr=False)
    expires_in: int


class InvalidConnectLink(BadRequest):
    code = "invalid_connect_session"
    description = "The connect link is unknown, expired or already used; ask the app for a new one."


class Connector:
    """Connect links and their completion; built once per app."""

    def __init__(self, *, redis_client: redis.Redis, vault: Vault, ttl: int, login: Login,
                 profiles: ProfileService, accounts: AccountStore,
                 on_event: Callable[[str, dict[str, object]], object] = lambda kind, data: None,
                 ) -> None:
        self._redis, self._vault, self.ttl = redis_client, vault, min(ttl, MAX_TTL)
        self._login, self._profiles, self._accounts = login, profiles, accounts
        self._on_event = on_event  # events to the app's backend (broker.jobs.events)

    def create(self, session: ConnectSession) -> Link:
        """A one-time link for the app user's browser."""
        token = secrets.token_urlsafe(32)
        sealed = self._vault.encrypt(json.dumps(asdict(session)).encode(), _context(token))
        self._redis.set(redis_key("connect", digest(token)), sealed, ex=self.ttl)
        return Link(token, self.ttl)

    def open(self, token: str, binding: str) -> Started:
        """The browser opened the link: take it (once) and start TikTok's consent page."""
        sealed = self._redis.getdel(redis_key("connect", digest(token))) \
            if token and len(token) <= 200 else None
        if sealed is None:
            raise InvalidConnectLink()
        try:
            fields = json.loads(self._vault.decrypt(str(sealed), _context(token)))
        except VaultError as exc:
            raise InvalidConnectLink() from exc
        session = ConnectSession(**{**fields, "scopes": tuple(fields["scopes"])})
        log.info("connect link opened", extra={"key_id": session.key_id})
        return self._login.start(session.return_to, session.scopes, binding,
                                 app_user_id=session.app_user_id)

    def finish(self, transaction: OAuthTransaction, *, code: str | None, error: str | None,
               granted: str | None) -> str:
        """TikTok's callback for a connect: keep the grant, link the account; its id.

        Raises BrokerError (its code goes back to the app in the fragment)."""
        app_user_id = transaction.app_user_id
        if app_user_id is None:
            raise BrokerError("This callback is not a connect.", code="invalid_request")
        grant = self._login.obtain_grant(transaction, code=code, error=error, granted=granted)
        profile: dict[str, object] = {}
        try:
            profile = self._profiles.prefetch(grant, fields_for(grant.scopes, None))
        except BrokerError as exc:
            log.warning("profile fetch failed after connect: %s", exc.code)
        self._accounts.link(app_user_id, Account(
            grant.open_id, "active", grant.scopes, str(profile.get("display_name") or ""),
            str(profile.get("avatar_url") or "")))
        log.info("account connected", extra={"account_id": grant.open_id})
        self._on_event("account.connected", {"account_id": grant.open_id,
                                             "app_user_id": app_user_id,
                                             "scopes": list(grant.scopes)})
        return grant.open_id


def _context(token: str) -> str:
    return "connect:" + digest(token)
