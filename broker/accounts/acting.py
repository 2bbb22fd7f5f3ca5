"""Acting for a connected account: what a service key, or a JWT minted for an app user, may do.

Each route a service credential may call needs one scope (the tables below; a route not listed is
closed to service credentials: new routes are refused until someone decides). On `/api/*` the
credential names the account in `Broker-Account`; the principal it resolves to is that account,
with the account's granted TikTok scopes, held by the key or the app user.
"""

from __future__ import annotations

from broker.accounts.keys import ServiceKey, ServiceKeyStore
from broker.accounts.links import REAUTH, AccountStore
from broker.auth.jwts import Principal
from broker.errors import Forbidden, InvalidToken, NotFound, ReauthRequired

ACCOUNT_HEADER = "Broker-Account"
APP_USER_PREFIX, KEY_SESSION_PREFIX = "app:", "key:"
API_SCOPES = {  # endpoint -> the scope a service credential needs there
    "api.me": "profile:read",
    "content.creator_info": "posts:write", "content.start_video": "posts:write",
    "content.start_photo": "posts:write", "publish.upload": "posts:write",
    "publish.cancel": "posts:write", "publish.status": "posts:read",
    "videos.list_videos": "videos:read", "videos.query_videos": "videos:read",
    "posts.create_post": "posts:write", "posts.cancel_post": "posts:write",
    "posts.list_posts": "posts:read", "posts.show_post": "posts:read",
}
SERVICE_SCOPES = {
    "service.create_connect_session": "accounts:write", "service.list_accounts": "accounts:read",
    "service.unlink_account": "accounts:write", "service.mint_user_token": "users:tokens",
    "service.issue_tiktok_token": "tokens:issue",
}
# What a JWT minted for an app user may do: the minting key's scopes among these.
USER_TOKEN_SCOPES = frozenset(API_SCOPES.values())


class UnknownAccount(NotFound):
    code = "unknown_account"
    description = "No such connected account for this caller (send its id in Broker-Account)."


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    description = "The credential does not hold the scope this route needs."


class AccountReauthRequired(ReauthRequired):
    description = ("TikTok no longer accepts this account's grant; the user must connect it "
                   "again.")


def required_scope(endpoint: str) -> str | None:
    """The scope a service credential needs on this endpoint (None: closed to them)."""
    return API_SCOPES.get(endpoint) or SERVICE_SCOPES.get(endpoint)


def is_app_user_token(principal: Principal) -> bool:
    """Whether a verified JWT was minted for an app user (not a TikTok login)."""
    return principal.session_id.startswith(KEY_SESSION_PREFIX)


class Acting:
    """Resolves a service credential and `Broker-Account` into the principal of a request."""

    def __init__(self, keys: ServiceKeyStore, accounts: AccountStore) -> None:
        self._keys, self._accounts = keys, accounts

    def for_key(self, key: ServiceKey, endpoint: str, account_id: str | None) -> Principal:
        """A service key's call: its scope for the route, and on `/api/*` the account."""
        required = required_scope(endpoint)
        if required is None or required not in key.scopes:
            raise InsufficientScope(f"This service key lacks the scope {required or 'for it'}."
                                    if required else "Service keys cannot call this route.")
        holder = KEY_SESSION_PREFIX + key.key_id
        if endpoint in SERVICE_SCOPES:
            return Principal("", holder, frozenset(), "", holder, key.scopes)
        return self._acting(account_id, holder, key.scopes, app_user_id=None)

    def for_app_user(self, token: Principal, endpoint: str, account_id: str | None) -> Principal:
        """An app user's JWT: its key still alive, the route's scope, one of the user's accounts."""
        if self._keys.get(token.session_id.removeprefix(KEY_SESSION_PREFIX)) is None:
            raise InvalidToken("The service key that issued this token was revoked or expired.")
        required = API_SCOPES.get(endpoint)
        if required is None or required not in token.scopes:
            raise InsufficientScope(f"This token lacks the scope {required}." if required
                                    else "An app user's token cannot call this route.")
        app_user_id = token.open_id.removeprefix(APP_USER_PREFIX)
        return self._acting(account_id, token.open_id, token.scopes, app_user_id=app_user_id)

    def _acting(self, account_id: str | None, holder: str, permissions: frozenset[str],
                app_user_id: str | None) -> Principal:
        if not account_id:
            raise UnknownAccount(f"Name the account to act for in the {ACCOUNT_HEADER} header.")
        if app_user_id is not None and not self._accounts.holds(app_user_id, account_id):
            raise UnknownAccount()
        account = self._accounts.account(account_id)
        if account is None:
            raise UnknownAccount()
        if account.status == REAUTH:
            raise AccountReauthRequired()
        return Principal(account_id, holder, frozenset(account.scopes), "", holder, permissions)
