"""Idempotency keys for the post-starting routes (SPEC "Posting that survives").

`tb:idem:<sha256(caller, key)>` (24 h) holds the digest of the first request, a lease while it
runs, a reserved id (the post_id a retry re-uses), and the answer. The answer is recorded as soon
as TikTok has accepted the post, before the response is sent: a retry after a crash between
TikTok's init and the answer replays it instead of starting a second post.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import redis

from broker.clock import Clock
from broker.errors import BrokerError, Conflict
from broker.storage.keyspace import redis_key

TTL = 24 * 3600  # SPEC: the same key answers the same for 24 h
LEASE = 120  # seconds a first request may run before a retry may take it over (a crash)


class IdempotencyKeyReused(BrokerError):
    status, code = 422, "idempotency_key_reused"
    description = "This Idempotency-Key was used with another request body."


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    description = "A request with this Idempotency-Key is still running; retry in a moment."


@dataclass(frozen=True)
class Attempt:
    """One use of a key: its Redis name, the id reserved for it, and the answer to replay."""

    name: str
    reserved: str
    replay: tuple[int, Any] | None = None


class IdempotencyStore:
    """Begin, record and finish idempotent requests; shared by every worker and replica."""

    def __init__(self, redis_client: redis.Redis, clock: Clock) -> None:
        self._redis, self._clock = redis_client, clock

    def begin(self, caller: str, key: str, digest: str) -> Attempt:
        """Claim the key, or return the answer to replay; 409 while running, 422 on a new body."""
        name = redis_key("idem", hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest())
        now = self._clock.now()
        reserved = "pst_" + secrets.token_hex(12)
        fresh = {"digest": digest, "state": "running", "reserved": reserved,
                 "lease_until": now + LEASE}
        if self._redis.set(name, json.dumps(fresh), nx=True, ex=TTL):
            return Attempt(name, reserved)
        result: list[Attempt] = []

        def judge(pipe: Any) -> None:
            raw = pipe.get(name)
            if raw is None:  # expired between the two steps: claim it afresh
                pipe.multi()
                pipe.set(name, json.dumps(fresh), ex=TTL)
                result.append(Attempt(name, reserved))
                return
            entry = json.loads(raw)
            if entry["digest"] != digest:
                raise IdempotencyKeyReused()
            if entry["state"] == "done":
                result.append(Attempt(name, entry["reserved"], (entry["status"], entry["body"])))
                return
            if entry["lease_until"] > now:
                raise IdempotencyInProgress()
            if "body" in entry:  # the first request crashed after TikTok took the post
                result.append(Attempt(name, entry["reserved"], (entry["status"], entry["body"])))
                return
            entry["lease_until"] = now + LEASE  # it crashed before: run again, same reserved id
            pipe.multi()
            pipe.set(name, json.dumps(entry), keepttl=True)
            result.append(Attempt(name, entry["reserved"]))

        self._redis.transaction(judge, name)
        return result[-1]

    def record(self, attempt: Attempt, status: int, body: Any) -> None:
        """Keep the answer while the request still runs (TikTok has the post from here on)."""
        self._update(attempt, status, body, "running")

    def finish(self, attempt: Attempt, status: int, body: Any) -> None:
        """Store the answer every later use of the key replays."""
        self._update(attempt, status, body, "done")

    def abandon(self, attempt: Attempt) -> None:
        """The request failed before TikTok took anything: the key may be used again at once.
        An answer already recorded stays, and is replayed."""
        def drop(pipe: Any) -> None:
            raw = pipe.get(attempt.name)
            entry = json.loads(raw) if raw else {}
            pipe.multi()
            if "body" in entry:
                entry["state"] = "done"
                pipe.set(attempt.name, json.dumps(entry), keepttl=True)
            elif entry.get("reserved") == attempt.reserved:
                pipe.delete(attempt.name)
        self._redis.transaction(drop, attempt.name)

    def _update(self, attempt: Attempt, status: int, body: Any, state: str) -> None:
        raw = self._redis.get(attempt.name)
        entry = json.loads(str(raw)) if raw else {"reserved": attempt.reserved, "digest": ""}
        entry.update(state=state, status=status, body=body)
        self._redis.set(attempt.name, json.dumps(entry), keepttl=True) if raw else \
            self._redis.set(attempt.name, json.dumps(entry), ex=TTL)


def request_digest(method: str, path: str, body: Any) -> str:
    """The SHA-256 of a request: method, path and its JSON body with keys in a fixed order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()
