"""The login use case: start an OAuth transaction, finish it on TikTok's callback (code
exchange, grant kept, profile prefetched, session created, delivery chosen), and sign out.

The views keep HTTP (cookies, redirects, status codes); everything between TikTok and the
broker's own session happens here, with the clock and `sleep` injected.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from broker.auth.jwts import JwtService, Principal
from broker.auth.sessions import Session, SessionStore
from broker.auth.transactions import OAuthTransaction, TransactionStore
from broker.clock import Clock
from broker.errors import BrokerError
from broker.grants import GrantKeeper
from broker.profiles import ProfileService, fields_for
from broker.tiktok import TikTokClient
from broker.tiktok.errors import TikTokOAuthError

log = logging.getLogger(__name__)
REVOKE_ATTEMPTS = 3


@dataclass(frozen=True)
class LoginPolicy:
    """What the configuration says about sessions and how a login reaches the SPA."""

    session_ttl: int
    token_delivery: str  # "fragment" or "handoff"
    login_code_ttl: int
    default_scopes: tuple[str, ...]  # TIKTOK_SCOPES, when TikTok does not list the granted ones


@dataclass(frozen=True)
class Completed:
    """A finished login: what goes in the SPA's fragment, and the refresh cookie to set."""

    fragment: dict[str, str] = field(repr=False)
    refresh_cookie: str = field(repr=False)
    cookie_ttl: int


class Login:
    """Built once per app; each method is one step of a user's login or logout."""

    def __init__(self, *, tiktok: TikTokClient, transactions: TransactionStore,
                 grants: GrantKeeper, profiles: ProfileService, sessions: SessionStore,
                 jwts: JwtService, clock: Clock, policy: LoginPolicy,
                 forget_user: Callable[[str], None],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._tiktok, self._transactions, self._grants = tiktok, transactions, grants
        self._profiles, self._sessions, self._jwts = profiles, sessions, jwts
        self._clock, self._policy, self._sleep = clock, policy, sleep
        self._forget_user = forget_user

    def start(self, return_to: str, extra_scopes: tuple[str, ...], binding: str) -> str:
        """Remember a new transaction bound to this browser; the consent-page URL to send it to."""
        authorization = self._tiktok.authorization_request(extra_scopes)
        self._transactions.begin(authorization.state, binding,
                                 OAuthTransaction(return_to, authorization.code_verifier))
        return authorization.url

    def resume(self, state: str, binding: str) -> OAuthTransaction:
        """The transaction a callback finishes, taken once; raises StateError before any call."""
        return self._transactions.consume(state, binding)

    def finish(self, transaction: OAuthTransaction, *, code: str | None, error: str | None,
               granted: str | None) -> Completed:
        """Turn TikTok's callback into a session; raise BrokerError for the SPA's fragment."""
        if error:
            if error == "access_denied":
                raise BrokerError("The TikTok login was declined.", code="access_denied")
            raise BrokerError("TikTok could not complete the login.", code="tiktok_error")
        if not code:
            raise BrokerError("TikTok sent no authorization code.", code="invalid_request")
        try:
            grant = self._tiktok.exchange_code(code, transaction.code_verifier)
        except TikTokOAuthError as exc:
            log.info("code exchange refused by TikTok: %s", exc.error)
            raise BrokerError("TikTok did not accept the login; please try again.",
                              code="login_failed", tiktok_log_id=exc.tiktok_log_id) from exc
        if not grant.scopes:  # TikTok lists granted scopes on the callback as `scopes` (§1.3)
            scopes = tuple(s for s in (granted or "").split(",") if s)
            grant = dataclasses.replace(grant, scopes=scopes or self._policy.default_scopes)
        self._grants.store.save(grant)
        try:
            self._profiles.prefetch(grant, fields_for(grant.scopes, None))
        except BrokerError as exc:
            log.warning("profile prefetch failed after login: %s", exc.code)
        ttl = self._policy.session_ttl
        if grant.refresh_expires_at:  # a session never outlives TikTok's refresh token
            ttl = max(min(ttl, int(grant.refresh_expires_at - self._clock.now())), 1)
        session, refresh_cookie = self._sessions.create(grant.open_id, grant.scopes, ttl)
        log.info("login completed", extra={"open_id": grant.open_id, "sid": session.session_id})
        if self._policy.token_delivery == "handoff":  # noqa: S105 (a mode name)
            login_code = self._sessions.issue_login_code(session.session_id,
                                                         self._policy.login_code_ttl)
            return Completed({"login_code": login_code}, refresh_cookie, ttl)
        return Completed(self.token_fields(session), refresh_cookie, ttl)

    def token_fields(self, session: Session) -> dict[str, str]:
        """A new broker JWT for the session, as the fields the SPA receives."""
        token = self._jwts.issue(session.open_id, session.session_id, session.scopes)
        return {"access_token": token, "token_type": "Bearer", "expires_in": str(self._jwts.ttl)}

    def sign_out(self, principal: Principal, *, revoke: bool) -> None:
        """End this session; with `revoke`, every session, the grant, and the grant at TikTok."""
        if revoke:
            grant = self._grants.store.load(principal.open_id)
            self._forget_user(principal.open_id)  # local state goes first, whatever TikTok says
            if grant is not None:
                self._revoke_at_tiktok(grant.access_token)
            return
        self._sessions.end(principal.session_id)
        if not self._sessions.any_active(principal.open_id):
            self._forget_user(principal.open_id)  # nobody is left to use the TikTok tokens

    def _revoke_at_tiktok(self, access_token: str) -> None:
        for attempt in range(1, REVOKE_ATTEMPTS + 1):
            try:
                self._tiktok.revoke(access_token)
                return
            except TikTokOAuthError as exc:
                log.warning("TikTok refused the revoke (%s); not retrying", exc.error)
                return
            except BrokerError as exc:
                log.warning("TikTok revoke failed (attempt %d of %d): %s", attempt,
                            REVOKE_ATTEMPTS, exc.code)
                if attempt < REVOKE_ATTEMPTS:
                    self._sleep(0.2 * 2 ** attempt)
