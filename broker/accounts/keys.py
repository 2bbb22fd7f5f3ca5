"""Service keys: the app backend's credential, `tbsk_<id>_<secret>`.

Only the secret's SHA-256 is stored (`tb:svc-key:<id>`, a hash that expires with the key), so a
copy of Redis holds no usable key. Every call reads the key's record, so a revocation (the record
deleted) is seen by every worker and replica at the next request.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

import redis

from broker.clock import Clock
from broker.errors import InvalidToken
from broker.storage.keyspace import digest, redis_key

PREFIX = "tbsk_"
SCOPES = ("accounts:read", "accounts:write", "users:tokens", "profile:read", "posts:write",
          "posts:read", "videos:read", "tokens:issue")
_SHAPE = re.compile(r"tbsk_([0-9a-f]{16})_([A-Za-z0-9_-]{22,128})")
INDEX = redis_key("svc-keys")  # sorted set: key id -> expiry, for `service-keys list`


@dataclass(frozen=True)
class ServiceKey:
    """A key's public record: never its secret."""

    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: float
    expires_at: float


class ServiceKeyStore:
    """Creates, verifies, lists and revokes service keys in Redis."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._redis, self._clock = redis_client, clock

    def create(self, name: str, scopes: tuple[str, ...], days: float) -> tuple[ServiceKey, str]:
        """A new key's record and the key itself (shown once, never stored)."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValueError(f"scopes must be among {', '.join(SCOPES)} (got {unknown or 'none'})")
        if not 0 < days <= 3650:
            raise ValueError("days must be above 0 and at most 3650")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)  # 192 random bits
        now = self._clock.now()
        key = ServiceKey(key_id, name, frozenset(scopes), now, now + days * 86400)
        record = redis_key("svc-key", key_id)
        pipe = self._redis.pipeline()
        pipe.hset(record, mapping={"n": name, "sc": " ".join(sorted(scopes)), "d": digest(secret),
                                   "ca": str(now), "ex": str(key.expires_at)})
        pipe.expireat(record, int(key.expires_at) + 1)
        pipe.zadd(INDEX, {key_id: key.expires_at})
        pipe.expireat(INDEX, int(key.expires_at) + 1, gt=True)
        pipe.expireat(INDEX, int(key.expires_at) + 1, nx=True)
        pipe.execute()
        return key, f"{PREFIX}{key_id}_{secret}"

    def verify(self, presented: str) -> ServiceKey:
        """The live key this credential is; InvalidToken when malformed, unknown, revoked or
        expired (one answer for all: nothing tells a guesser which part was wrong)."""
        shape = _SHAPE.fullmatch(presented)
        found = self._load(shape.group(1)) if shape else None
        if shape is None or found is None \
                or not hmac.compare_digest(found[1], digest(shape.group(2))):
            raise InvalidToken("The service key is invalid, revoked or expired.")
        return found[0]

    def get(self, key_id: str) -> ServiceKey | None:
        """The key's record, or None when it is unknown, revoked or expired."""
        found = self._load(key_id)
        return found[0] if found else None

    def _load(self, key_id: str) -> tuple[ServiceKey, str] | None:
        fields = {str(k): str(v) for k, v in
                  self._redis.hgetall(redis_key("svc-key", key_id)).items()}
        if "ex" not in fields or float(fields["ex"]) <= self._clock.now():
            return None
        return ServiceKey(key_id, fields["n"], frozenset(fields["sc"].split()),
                          float(fields["ca"]), float(fields["ex"])), fields["d"]

    def listing(self) -> list[ServiceKey]:
        """Every live key, soonest expiry first."""
        self._redis.zremrangebyscore(INDEX, "-inf", self._clock.now())
        found = [self.get(str(key_id)) for key_id in self._redis.zrange(INDEX, 0, -1)]
        return [key for key in found if key is not None]

    def revoke(self, key_id: str) -> bool:
        """End a key now, everywhere; False when there was no such key."""
        pipe = self._redis.pipeline()
        pipe.delete(redis_key("svc-key", key_id))
        pipe.zrem(INDEX, key_id)
        return bool(pipe.execute()[0])


def key_id_of(presented: str) -> str | None:
    """The id part of something shaped like a service key (for the audit line), else None."""
    shape = _SHAPE.fullmatch(presented)
    return shape.group(1) if shape else None
