"""Login sessions: what a broker JWT and the refresh cookie stand for, shared by all replicas.

A JWT names its session (`sid`); deleting the session refuses its JWTs everywhere at once. The
refresh cookie is `<sid>.<secret>`; only the secret's digest is stored, and it rotates on every
use. Presenting an old secret means the cookie was copied: the session ends, except within a
short grace window after its rotation (REFRESH_GRACE_SECONDS), where the just-rotated secret is
answered with the same successor, so two tabs renewing at the same moment both stay signed in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import redis

from broker.clock import Clock
from broker.storage.keyspace import digest, redis_key, session_key, user_key, user_tag
from broker.storage.vault import Vault, VaultError

# Compare-and-rotate in one step, so two concurrent uses of one cookie cannot both win. The
# previous digest (ph), the rotation time (rt) and the successor secret, sealed (ns), answer a
# repeat of the just-rotated cookie within the grace window; any other old cookie ends it all.
# One round trip: the answer carries the session (oid, sc) and its seconds left.
_ROTATE = """
local s = redis.call('HMGET', KEYS[1], 'rh', 'ph', 'rt', 'ns', 'oid', 'sc')
if not s[1] or not s[5] then return {0} end
local left = redis.call('TTL', KEYS[1])
if s[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'rh', ARGV[2], 'ph', ARGV[1], 'rt', ARGV[3], 'ns', ARGV[4])
  return {1, s[5], s[6] or '', left}
end
if s[2] == ARGV[1] and tonumber(ARGV[3]) - tonumber(s[3]) <= tonumber(ARGV[5]) then
  return {2, s[5], s[6] or '', left, s[4]}
end
redis.call('DEL', KEYS[1])
return {-1, s[5]}
"""


@dataclass(frozen=True)
class Session:
    session_id: str
    open_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Rotated:
    """A rotation's outcome: the session, the cookie that replaces the presented one, and the
    seconds the session has left (its lifetime is fixed at login)."""

    session: Session
    cookie: str = field(repr=False)
    remaining: int


class RefreshReuse(Exception):
    """An already-rotated refresh cookie was presented; its session has been ended."""


class SessionStore:
    """Sessions (`tb:sess:<sid>`), the user's index (`tb:user-sessions:<open_id>`), login codes."""

    def __init__(self, redis_client: redis.Redis, clock: Clock, vault: Vault,
                 grace: int = 0) -> None:
        self._redis, self._clock, self._vault, self._grace = redis_client, clock, vault, grace
        self._rotate = redis_client.register_script(_ROTATE)

    def create(self, open_id: str, scopes: tuple[str, ...], ttl: int) -> tuple[Session, str]:
        """A new session and its first refresh cookie value."""
        session = Session(f"{user_tag(open_id)}-{secrets.token_urlsafe(16)}", open_id, scopes)
        secret = secrets.token_urlsafe(32)
        index = user_key(open_id, "user-sessions")
        pipe = self._redis.pipeline()
        pipe.hset(session_key(session.session_id), mapping={
            "oid": open_id, "sc": " ".join(scopes), "rh": digest(secret),
            "ca": str(int(self._clock.now()))})
        pipe.expire(session_key(session.session_id), ttl)
        pipe.sadd(index, session.session_id)
        pipe.expire(index, ttl, nx=True)
        pipe.expire(index, ttl, gt=True)
        pipe.execute()
        return session, f"{session.session_id}.{secret}"

    def get(self, session_id: str) -> Session | None:
        """The live session, or None when it ended or expired."""
        stored = self._redis.hgetall(session_key(session_id))
        fields = {str(k): str(v) for k, v in stored.items()}
        if "oid" not in fields:
            return None
        return Session(session_id, fields["oid"], tuple(fields.get("sc", "").split()))

    def is_active(self, session_id: str) -> bool:
        return bool(self._redis.exists(session_key(session_id)))

    def rotate(self, cookie: str) -> Rotated | None:
        """Trade a refresh cookie for its session and a new cookie, in one round trip; None if
        unknown/ended.

        Raises RefreshReuse (after ending the session) when the cookie was already rotated
        before the grace window.
        """
        session_id, secret = _parts(cookie)
        if not session_id:
            return None
        new_secret = secrets.token_urlsafe(32)
        sealed = self._vault.encrypt(new_secret.encode(), _context(session_id))
        outcome = self._rotate(keys=[session_key(session_id)], args=[
            digest(secret), digest(new_secret), self._clock.now(), sealed, self._grace])
        if outcome[0] == -1:
            self._redis.srem(user_key(str(outcome[1]), "user-sessions"), session_id)
            raise RefreshReuse()
        if outcome[0] == 2:  # the same successor as the request that rotated it just now
            try:
                new_secret = self._vault.decrypt(str(outcome[4]), _context(session_id)).decode()
            except VaultError:
                return None
        elif outcome[0] != 1:
            return None
        session = Session(session_id, str(outcome[1]), tuple(str(outcome[2]).split()))
        return Rotated(session, f"{session_id}.{new_secret}", max(int(outcome[3]), 1))

    def holder(self, cookie: str) -> Session | None:
        """The live session whose current refresh cookie this is (nothing is rotated)."""
        session_id, secret = _parts(cookie)
        if not session_id:
            return None
        current = self._redis.hget(session_key(session_id), "rh")
        if current is None or current != digest(secret):
            return None
        return self.get(session_id)

    def end(self, session_id: str) -> None:
        """End one session now; its JWTs are refused from the next request on."""
        session = self.get(session_id)
        self._redis.delete(session_key(session_id))
        if session is not None:
            self._redis.srem(user_key(session.open_id, "user-sessions"), session_id)

    def any_active(self, open_id: str) -> bool:
        """Whether the user still has a live session (stale index entries are pruned)."""
        index = user_key(open_id, "user-sessions")
        session_ids = [str(s) for s in self._redis.smembers(index)]
        live = [s for s in session_ids if self.is_active(s)]
        stale = set(session_ids) - set(live)
        if stale:
            self._redis.srem(index, *stale)
        return bool(live)

    def end_created_before(self, open_id: str, moment: float) -> None:
        """End the user's sessions created before `moment` (epoch seconds); keep later ones."""
        index = user_key(open_id, "user-sessions")
        for session_id in [str(s) for s in self._redis.smembers(index)]:
            created = self._redis.hget(session_key(session_id), "ca")
            if created is None or float(created) < moment:
                self.end(session_id)

    def end_all(self, open_id: str) -> None:
        """End every session of the user (logout with revoke, lost grant, webhook)."""
        index = user_key(open_id, "user-sessions")
        session_ids = self._redis.smembers(index)
        pipe = self._redis.pipeline()
        for session_id in session_ids:
            pipe.delete(session_key(str(session_id)))
        pipe.delete(index)
        pipe.execute()

    def issue_login_code(self, session_id: str, ttl: int) -> str:
        """A one-time code the SPA trades for a JWT (handoff delivery)."""
        code = secrets.token_urlsafe(32)
        self._redis.set(redis_key("login-code", digest(code)), session_id, ex=ttl)
        return code

    def redeem_login_code(self, code: str) -> Session | None:
        """The session a login code was issued for; the code is gone afterwards."""
        if not code or len(code) > 200:
            return None
        session_id = self._redis.getdel(redis_key("login-code", digest(code)))
        return self.get(str(session_id)) if session_id else None


def _parts(cookie: str) -> tuple[str, str]:
    """(session id, secret) of a refresh cookie; empty strings for anything malformed."""
    session_id, _, secret = cookie.partition(".")
    if not session_id or not secret or len(cookie) > 200:
        return "", ""
    return session_id, secret


def _context(session_id: str) -> str:
    return "refresh-successor:" + session_id
