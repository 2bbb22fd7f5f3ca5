"""The app backend's view of its users' accounts: list, unlink (and revoke), mint a JWT for an
app user, and hand out TikTok's own token where the configuration allows it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from broker.accounts.acting import APP_USER_PREFIX, KEY_SESSION_PREFIX, UnknownAccount
from broker.accounts.links import AccountStore
from broker.auth.jwts import JwtService
from broker.auth.login import Login
from broker.auth.sessions import SessionStore
from broker.clock import Clock
from broker.errors import BadRequest, Forbidden
from broker.grants import GrantKeeper

log = logging.getLogger(__name__)
APP_USER_ID = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, space excluded


def check_app_user_id(app_user_id: str) -> str:
    """The app's id for its user, or a 400: 1 to 128 printable ASCII characters, no space."""
    if not APP_USER_ID.fullmatch(app_user_id):
        raise BadRequest("app_user_id must be 1 to 128 printable ASCII characters (no space).",
                         code="invalid_app_user_id")
    return app_user_id


class TokenIssueDisabled(Forbidden):
    code = "token_issue_disabled"
    description = "Handing out TikTok tokens is off (SERVICE_TOKEN_ISSUE=true turns it on)."


class ConnectedAccounts:
    """Built once per app from the stores it needs; each method is one service route."""

    def __init__(self, *, accounts: AccountStore, sessions: SessionStore, grants: GrantKeeper,
                 login: Login, jwts: JwtService, clock: Clock, token_issue: bool,
                 drop_grant: Callable[[str], None]) -> None:
        self._accounts, self._sessions, self._grants = accounts, sessions, grants
        self._login, self._jwts, self._clock = login, jwts, clock
        self._token_issue, self._drop_grant = token_issue, drop_grant

    def listing(self, app_user_id: str) -> list[dict[str, Any]]:
        """The app user's accounts as the service API shows them."""
        return [{"account_id": a.account_id, "display_name": a.display_name or None,
                 "avatar_url": a.avatar_url or None, "scopes": list(a.scopes),
                 "connected_at": at, "status": a.status}
                for a, at in self._accounts.accounts_of(check_app_user_id(app_user_id))]

    def unlink(self, app_user_id: str, account_id: str, *, revoke: bool) -> None:
        """Remove the link; once nothing holds the account, drop (and maybe revoke) its grant."""
        if not self._accounts.unlink(check_app_user_id(app_user_id), account_id):
            raise UnknownAccount()
        if self._accounts.held(account_id) or self._sessions.any_active(account_id):
            log.info("account unlinked; still held elsewhere", extra={"account_id": account_id})
            return
        grant = self._grants.store.load(account_id)
        self._drop_grant(account_id)
        log.info("account unlinked; its TikTok tokens deleted", extra={"account_id": account_id})
        if revoke and grant is not None:
            self._login.revoke_at_tiktok(grant.access_token)

    def user_token(self, app_user_id: str, key_id: str,
                   key_scopes: frozenset[str], allowed: frozenset[str]) -> dict[str, Any]:
        """A broker JWT for the app user, with the minting key's `/api` scopes; it dies with
        the key (its `sid` names the key)."""
        scopes = tuple(sorted(key_scopes & allowed))
        token = self._jwts.issue(APP_USER_PREFIX + check_app_user_id(app_user_id),
                                 KEY_SESSION_PREFIX + key_id, scopes)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self._jwts.ttl}

    def tiktok_token(self, account_id: str, key_id: str) -> dict[str, Any]:
        """TikTok's access token for the account (refreshed first when near expiry)."""
        if not self._token_issue:
            raise TokenIssueDisabled()
        account = self._accounts.account(account_id)
        if account is None:
            raise UnknownAccount()
        grant = self._grants.current(account_id)
        log.warning("TikTok access token handed out", extra={"key_id": key_id,
                                                              "account_id": account_id})
        return {"access_token": grant.access_token, "open_id": grant.open_id,
                "expires_in": max(int(grant.expires_at - self._clock.now()), 0),
                "scope": ",".join(grant.scopes)}

