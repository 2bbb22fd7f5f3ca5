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
from broker.tiktok import TikTokClient, TikTokGrant
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
class Started:
    """Where to send the browser, and the state its binding cookie is named after."""

    url: str = field(repr=False)
    state: str = field(repr=False)


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
                 forget_user: Callable[[str], bool],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._tiktok, self._transactions, self._grants = tiktok, transactions, grants
        self._profiles, self._sessions, self._jwts = profiles, sessions, jwts
        self._clock, self._policy, self._sleep = clock, policy, sleep
        self._forget_user = forget_user

    def start(self, return_to: str, extra_scopes: tuple[str, ...], binding: str,
              nonce: str | None = None, app_user_id: str | None = None) -> Started:
        """Remember a new transaction bound to this browser (and the SPA's nonce).

        With `app_user_id` it is a connect (broker.accounts): TikTok always shows its account
        choice, and the callback links the account instead of signing anyone in.
        """
        authorization = self._tiktok.authorization_request(
            extra_scopes, always_ask=app_user_id is not None)
        self._transactions.begin(authorization.state, binding, OAuthTransaction(
            return_to, authorization.code_verifier, nonce, app_user_id))
        return Started(authorization.url, authorization.state)

    def resume(self, state: str, binding: str) -> OAuthTransaction:
        """The transaction a callback finishes, taken once; raises StateError before any call."""
        return self._transactions.consume(state, binding)

    def finish(self, transaction: OAuthTransaction, *, code: str | None, error: str | None,
               granted: str | None, previous_cookie: str = "") -> Completed:
        """Turn TikTok's callback into a session; raise BrokerError for the SPA's fragment.

        A refresh cookie the browser still holds (`previous_cookie`) belongs to the session this
        login replaces: it ends, and so does what it held when nobody else uses it.
        """
        grant = self.obtain_grant(transaction, code=code, error=error, granted=granted)
        try:
            self._profiles.prefetch(grant, fields_for(grant.scopes, None))
        except BrokerError as exc:
            log.warning("profile prefetch failed after login: %s", exc.code)
        ttl = self._policy.session_ttl
        if grant.refresh_expires_at:  # a session never outlives TikTok's refresh token
            ttl = max(min(ttl, int(grant.refresh_expires_at - self._clock.now())), 1)
        session, refresh_cookie = self._sessions.create(grant.open_id, grant.scopes, ttl)
        log.info("login completed", extra={"open_id": grant.open_id, "sid": session.session_id})
        self._end_replaced(previous_cookie, grant.open_id)
        echo = {"nonce": transaction.nonce} if transaction.nonce else {}
        if self._policy.token_delivery == "handoff":  # noqa: S105 (a mode name)
            login_code = self._sessions.issue_login_code(session.session_id,
                                                         self._policy.login_code_ttl)
            return Completed({"login_code": login_code, **echo}, refresh_cookie, ttl)
        return Completed({**self.token_fields(session), **echo}, refresh_cookie, ttl)

    def obtain_grant(self, transaction: OAuthTransaction, *, code: str | None,
                     error: str | None, granted: str | None) -> TikTokGrant:
        """Exchange the callback's code and keep the grant (login and connect alike); raise
        BrokerError with the code the browser's fragment gets."""
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
        return grant

    def redeem(self, login_code: str, refresh_cookie: str) -> Session | None:
        """Handoff: the session of a login code, only in the browser that finished that login
        (it holds the session's refresh cookie); the code is used up either way."""
        session = self._sessions.redeem_login_code(login_code)
        holder = self._sessions.holder(refresh_cookie) if session is not None else None
        if session is None or holder is None or holder.session_id != session.session_id:
            return None
        return session

    def _end_replaced(self, previous_cookie: str, open_id: str) -> None:
        replaced = self._sessions.holder(previous_cookie) if previous_cookie else None
        if replaced is None:
            return
        self._sessions.end(replaced.session_id)
        if replaced.open_id != open_id and not self._sessions.any_active(replaced.open_id):
            self._forget_user(replaced.open_id)  # nobody is left to use those TikTok tokens

    def token_fields(self, session: Session) -> dict[str, str]:
        """A new broker JWT for the session, as the fields the SPA receives."""
        token = self._jwts.issue(session.open_id, session.session_id, session.scopes)
        return {"access_token": token, "token_type": "Bearer", "expires_in": str(self._jwts.ttl)}

    def sign_out(self, principal: Principal, *, revoke: bool) -> None:
        """End this session; with `revoke`, every session, the grant, and the grant at TikTok."""
        if revoke:
            grant = self._grants.store.load(principal.open_id)
            # local state goes first, whatever TikTok says; TikTok is told only when no app
            # user holds the account (broker.accounts) any more
            if self._forget_user(principal.open_id) and grant is not None:
                self.revoke_at_tiktok(grant.access_token)
            return
        self._sessions.end(principal.session_id)
        if not self._sessions.any_active(principal.open_id):
            self._forget_user(principal.open_id)  # nobody is left to use the TikTok tokens

    def revoke_at_tiktok(self, access_token: str) -> None:
        """Revoke at TikTok, retried on outages a bounded number of times; failures logged."""
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
