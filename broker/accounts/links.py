"""Connected accounts and the app users that hold them.

    tb:account:<open_id>          the account: status, granted scopes, display name, avatar
    tb:account-users:<open_id>    the app users that connected it (a set)
    tb:app-user:<app_user_id>     the user's accounts: account id -> connected at

One TikTok account may be connected by several app users, each link separate. The records live
LINK_TTL (a little longer than TikTok's longest refresh token, so an account that can no longer
be refreshed still shows `reauth_required` for a while), renewed at each connect.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from broker.clock import Clock
from broker.storage.keyspace import redis_key

LINK_TTL = 400 * 86400
ACTIVE, REAUTH = "active", "reauth_required"
# Only an account that still exists is marked (never recreated without its TTL).
_MARK = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'st', ARGV[1]) end"


@dataclass(frozen=True)
class Account:
    """A connected TikTok account as the broker last saw it."""

    account_id: str
    status: str
    scopes: tuple[str, ...]
    display_name: str
    avatar_url: str


class AccountStore:
    """The links between app users and TikTok accounts, in Redis."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._redis, self._clock = redis_client, clock
        self._mark = redis_client.register_script(_MARK)

    def link(self, app_user_id: str, account: Account) -> None:
        """Connect (or connect again) `account` for the app user: it is active from now on."""
        name, holders = _account(account.account_id), _holders(account.account_id)
        mine = _app_user(app_user_id)
        pipe = self._redis.pipeline()
        pipe.hset(name, mapping={"st": ACTIVE, "sc": " ".join(account.scopes),
                                 "dn": account.display_name, "av": account.avatar_url})
        pipe.sadd(holders, app_user_id)
        pipe.hset(mine, account.account_id, str(int(self._clock.now())))
        for key in (name, holders, mine):
            pipe.expire(key, LINK_TTL)
        pipe.execute()

    def account(self, account_id: str) -> Account | None:
        """The account, or None when no app user holds it."""
        fields = {str(k): str(v) for k, v in self._redis.hgetall(_account(account_id)).items()}
        if "st" not in fields:
            return None
        return Account(account_id, fields["st"], tuple(fields.get("sc", "").split()),
                       fields.get("dn", ""), fields.get("av", ""))

    def holds(self, app_user_id: str, account_id: str) -> bool:
        """Whether this app user has connected this account."""
        return bool(self._redis.hexists(_app_user(app_user_id), account_id))

    def held(self, account_id: str) -> bool:
        """Whether any app user still holds the account."""
        return bool(self._redis.scard(_holders(account_id)))

    def accounts_of(self, app_user_id: str) -> list[tuple[Account, int]]:
        """The app user's accounts with the time each was connected, oldest first."""
        links = {str(k): int(v) for k, v in self._redis.hgetall(_app_user(app_user_id)).items()}
        found = [(self.account(account_id), at) for account_id, at in links.items()]
        return sorted(((a, at) for a, at in found if a is not None), key=lambda pair: pair[1])

    def unlink(self, app_user_id: str, account_id: str) -> bool:
        """Remove one app user's link; the account's record goes with its last holder.
        False when there was no such link."""
        pipe = self._redis.pipeline()
        pipe.hdel(_app_user(app_user_id), account_id)
        pipe.srem(_holders(account_id), app_user_id)
        pipe.scard(_holders(account_id))
        removed, _, left = pipe.execute()
        if not left:
            self._redis.delete(_account(account_id))
        return bool(removed)

    def mark_reauth(self, account_id: str) -> None:
        """TikTok refused or removed the grant: the account needs connecting again."""
        self._mark(keys=[_account(account_id)], args=[REAUTH])


def _account(account_id: str) -> str:
    return redis_key("account", account_id)


def _holders(account_id: str) -> str:
    return redis_key("account-users", account_id)


def _app_user(app_user_id: str) -> str:
    return redis_key("app-user", app_user_id)
