"""Post records in Redis: `tb:post:<post_id>` (JSON, POST_RECORD_DAYS), the owner's index
`tb:posts:<open_id>` (sorted by creation) and `tb:post-of:<publish_id>` (webhooks find the post).

The media (source_url, video_url, photo_images) is sealed by the Vault: a presigned storage URL
is a credential. Every change goes through `update`, a WATCH transaction, so two workers never
both move a post from one state to the next.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from broker.clock import Clock
from broker.errors import BadRequest, NotFound
from broker.storage.keyspace import redis_key
from broker.storage.vault import Vault, VaultError

POST_ID = re.compile(r"^pst_[0-9a-f]{24}$")
WAITING = ("scheduled", "deferred")
FINAL = ("published", "inbox", "failed", "cancelled")


@dataclass
class Post:
    """One post the broker holds for a caller (SPEC: the post record plus what the worker needs)."""

    post_id: str
    owner: str
    kind: str  # video | photo
    mode: str  # direct | draft
    post_info: dict[str, Any]
    media: dict[str, Any] = field(repr=False)  # source_url | video_url | photo_images, cover
    created_at: float
    publish_at: float | None = None
    status: str = "scheduled"
    publish_id: str | None = None
    post_ids: list[str] | None = None
    fail_reason: str | None = None
    hint: str | None = None
    attempts: int = 0
    next_attempt_at: float | None = None
    lease_until: float = 0.0  # while running: the worker renews it; expired = the worker died
    stage: str = ""  # "" | "init_sent" (TikTok asked, answer not yet kept) | "uploading"
    runner: str = ""  # the claim of the worker running it (a lease is renewed by its holder)
    retries: int = 0  # transient failures so far (the backoff grows with them)

    def view(self) -> dict[str, Any]:
        """The post record the API answers (SPEC; times RFC 3339, unknown values null)."""
        return {"post_id": self.post_id, "status": self.status,
                "publish_at": rfc3339(self.publish_at), "publish_id": self.publish_id,
                "post_ids": self.post_ids, "fail_reason": self.fail_reason,
                "attempts": self.attempts, "next_attempt_at": rfc3339(self.next_attempt_at),
                "created_at": rfc3339(self.created_at)}


def rfc3339(stamp: float | None) -> str | None:
    """Epoch seconds as RFC 3339 UTC (`2026-12-01T10:00:00Z`), or None."""
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def check_post_id(post_id: str) -> str:
    """Refuse ids the broker could not have issued before they reach Redis."""
    if not POST_ID.match(post_id):
        raise NotFound("You have no post with this post_id.", code="post_not_found")
    return post_id


class PostStore:
    """Reads and writes post records; every write renews their TTL."""

    def __init__(self, redis_client: redis.Redis, vault: Vault, clock: Clock, days: int) -> None:
        self._redis, self._vault, self._clock = redis_client, vault, clock
        self.ttl = days * 86_400

    def create(self, post: Post) -> bool:
        """Store a new post; False when one with this id exists (an idempotent retry)."""
        if not self._redis.set(redis_key("post", post.post_id), self._dump(post), nx=True,
                               ex=self.ttl):
            return False
        index = redis_key("posts", post.owner)
        pipe = self._redis.pipeline()
        pipe.zadd(index, {post.post_id: post.created_at})
        pipe.zremrangebyscore(index, "-inf", self._clock.now() - self.ttl)
        pipe.expire(index, self.ttl)
        pipe.execute()
        return True

    def load(self, post_id: str) -> Post | None:
        raw = self._redis.get(redis_key("post", post_id))
        return self._load(str(raw)) if raw is not None else None

    def owned(self, post_id: str, owner: str) -> Post:
        """The caller's own post; another caller's is as unknown as a missing one."""
        post = self.load(check_post_id(post_id))
        if post is None or post.owner != owner:
            raise NotFound("You have no post with this post_id.", code="post_not_found")
        return post

    def listing(self, owner: str, status: str | None = None, limit: int = 100) -> list[Post]:
        """The owner's posts, newest first."""
        ids = [str(i) for i in self._redis.zrevrange(redis_key("posts", owner), 0, 999)]
        raws = self._redis.mget([redis_key("post", i) for i in ids]) if ids else []
        posts = [self._load(str(r)) for r in raws if r is not None]
        return [p for p in posts if status in (None, p.status)][:limit]

    def update(self, post_id: str, change: Callable[[Post], Post | None]) -> Post | None:
        """Apply `change` atomically; it returns the new post, or None to leave it as it is.
        Returns what was stored (None when nothing changed or the post is gone)."""
        name = redis_key("post", post_id)
        out: list[Post | None] = []

        def apply(pipe: Any) -> None:
            raw = pipe.get(name)
            new = change(self._load(str(raw))) if raw is not None else None
            out.append(new)
            if new is not None:
                pipe.multi()
                pipe.set(name, self._dump(new), ex=self.ttl)
                if new.publish_id:
                    pipe.set(redis_key("post-of", new.publish_id), post_id, ex=self.ttl)
        self._redis.transaction(apply, name)
        return out[-1] if out else None

    def of_publish(self, publish_id: str) -> str | None:
        """The post_id that started TikTok's `publish_id`, if the broker's worker did."""
        found = self._redis.get(redis_key("post-of", publish_id))
        return str(found) if found is not None else None

    def _dump(self, post: Post) -> str:
        fields = dataclasses.asdict(post)
        fields["media"] = self._vault.encrypt(json.dumps(post.media).encode(),
                                              f"post-media:{post.post_id}:{post.owner}")
        return json.dumps(fields)

    def _load(self, raw: str) -> Post:
        fields = json.loads(raw)
        try:
            fields["media"] = json.loads(self._vault.decrypt(
                fields["media"], f"post-media:{fields['post_id']}:{fields['owner']}"))
        except VaultError:
            fields["media"] = {}  # its key was retired: the worker fails the post
        return Post(**fields)


def parse_time(value: str) -> float:
    """An RFC 3339 timestamp with an offset, as epoch seconds (BadRequest otherwise)."""
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None or "T" not in value.upper():
        raise BadRequest("publish_at must be an RFC 3339 timestamp with an offset, e.g. "
                         "2026-12-01T18:00:00+01:00.", code="invalid_publish_at")
    return stamp.timestamp()
