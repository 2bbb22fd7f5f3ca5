"""Login sessions: what a broker JWT and the refresh cookie stand for, shared by all replicas.

A JWT names its session (`sid`); deleting the session refuses its JWTs everywhere at once. The
refresh cookie is `<sid>.<secret>`; only the secret's digest is stored, and it rotates on every
use. Presenting an old secret means the cookie was copied: the session ends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import redis

from broker.clock import Clock
from broker.storage.keyspace import digest, redis_key

# Compare-and-rotate in one step, so two concurrent uses of one cookie cannot both win.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'rh')
if not current then return 0 end
if current ~= ARGV[1] then redis.call('DEL', KEYS[1]) return -1 end
redis.call('HSET', KEYS[1], 'rh', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Session:
    session_id: str
    open_id: str
    scopes: tuple[str, ...]


class RefreshReuse(Exception):
    """An already-rotated refresh cookie was presented; its session has been ended."""


class SessionStore:
    """Sessions (`tb:sess:<sid>`), the user's index (`tb:user-sessions:<open_id>`), login codes."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._redis, self._clock = redis_client, clock
        self._rotate = redis_client.register_script(_ROTATE)

    def create(self, open_id: str, scopes: tuple[str, ...], ttl: int) -> tuple[Session, str]:
        """A new session and its first refresh cookie value."""
        session = Session(secrets.token_urlsafe(16), open_id, scopes)
        secret = secrets.token_urlsafe(32)
        index = redis_key("user-sessions", open_id)
        pipe = self._redis.pipeline()
        pipe.hset(redis_key("sess", session.session_id), mapping={
            "oid": open_id, "sc": " ".join(scopes), "rh": digest(secret),
            "ca": str(int(self._clock.now()))})
        pipe.expire(redis_key("sess", session.session_id), ttl)
        pipe.sadd(index, session.session_id)
        pipe.expire(index, ttl, nx=True)
        pipe.expire(index, ttl, gt=True)
        pipe.execute()
        return session, f"{session.session_id}.{secret}"

    def get(self, session_id: str) -> Session | None:
        """The live session, or None when it ended or expired."""
        stored = self._redis.hgetall(redis_key("sess", session_id))
        fields = {str(k): str(v) for k, v in stored.items()}
        if "oid" not in fields:
            return None
        return Session(session_id, fields["oid"], tuple(fields.get("sc", "").split()))

    def remaining(self, session_id: str) -> int:
        """Seconds the session has left (its lifetime is fixed at login)."""
        return max(int(self._redis.ttl(redis_key("sess", session_id))), 1)

    def is_active(self, session_id: str) -> bool:
        return bool(self._redis.exists(redis_key("sess", session_id)))

    def rotate(self, cookie: str) -> tuple[Session, str] | None:
        """Trade a refresh cookie for its session and a new cookie; None if unknown/ended.

        Raises RefreshReuse (after ending the session) when the cookie was already rotated.
        """
        session_id, _, secret = cookie.partition(".")
        if not session_id or not secret or len(cookie) > 200:
            return None
        session = self.get(session_id)
        if session is None:
            return None
        new_secret = secrets.token_urlsafe(32)
        outcome = self._rotate(keys=[redis_key("sess", session_id)],
                               args=[digest(secret), digest(new_secret)])
        if outcome == -1:
            self._redis.srem(redis_key("user-sessions", session.open_id), session_id)
            raise RefreshReuse()
        if outcome != 1:
            return None
        return session, f"{session_id}.{new_secret}"

    def end(self, session_id: str) -> None:
        """End one session now; its JWTs are refused from the next request on."""
        session = self.get(session_id)
        self._redis.delete(redis_key("sess", session_id))
        if session is not None:
            self._redis.srem(redis_key("user-sessions", session.open_id), session_id)

    def any_active(self, open_id: str) -> bool:
        """Whether the user still has a live session (stale index entries are pruned)."""
        index = redis_key("user-sessions", open_id)
        session_ids = [str(s) for s in self._redis.smembers(index)]
        live = [s for s in session_ids if self.is_active(s)]
        stale = set(session_ids) - set(live)
        if stale:
            self._redis.srem(index, *stale)
        return bool(live)

    def end_all(self, open_id: str) -> None:
        """End every session of the user (logout with revoke, lost grant, webhook)."""
        index = redis_key("user-sessions", open_id)
        session_ids = self._redis.smembers(index)
        pipe = self._redis.pipeline()
        for session_id in session_ids:
            pipe.delete(redis_key("sess", str(session_id)))
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
