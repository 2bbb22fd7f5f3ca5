"""Publish records in Redis: who started a post, its sealed upload_url, and its latest status.

`tb:publish:<publish_id>` is a hash shared by every worker: the owner's open_id, the chunk plan,
the upload_url sealed by the Vault (it carries TikTok's upload token), upload progress, and the
status as TikTok's status fetch or its webhooks last reported it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from broker.clock import Clock
from broker.errors import BadRequest, NotFound
from broker.posting.rules import ChunkPlan
from broker.storage.keyspace import redis_key
from broker.storage.vault import Vault, VaultError

PUBLISH_TTL = 24 * 3600  # the upload_url lives 1 h (§5.2); statuses stay readable a day
PUBLISH_ID = re.compile(r"^[A-Za-z0-9._~\-]{1,64}$")  # §5.2: at most 64 characters
TERMINAL = ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED")


@dataclass
class PublishRecord:
    """One post the broker started (or heard of by webhook)."""

    publish_id: str
    owner: str
    source: str = ""
    status: str | None = None
    fail_reason: str | None = None
    post_ids: list[str] | None = None
    uploaded_bytes: int | None = None
    plan: ChunkPlan | None = None
    upload_url: str | None = field(default=None, repr=False)
    from_webhook: bool = False
    fetched_at: float = 0.0

    def view(self) -> dict[str, Any]:
        """The JSON the SPA reads (SPEC: null for whatever TikTok did not give)."""
        return {"publish_id": self.publish_id, "status": self.status,
                "fail_reason": self.fail_reason, "post_ids": self.post_ids,
                "uploaded_bytes": self.uploaded_bytes}


def check_publish_id(publish_id: str) -> str:
    """Refuse ids that TikTok could not have issued before they reach Redis or TikTok."""
    if not PUBLISH_ID.match(publish_id):
        raise BadRequest("That is not a TikTok publish_id.", code="invalid_publish_id")
    return publish_id


class PublishStore:
    """Reads and writes publish records; every write renews the TTL."""

    def __init__(self, redis_client: redis.Redis, vault: Vault, clock: Clock) -> None:
        self._redis, self._vault, self._clock = redis_client, vault, clock

    def create(self, record: PublishRecord) -> None:
        """Store a new post; a status a webhook already delivered is kept."""
        fields: dict[FieldT, EncodableT] = {"owner": record.owner, "source": record.source}
        if record.plan is not None:
            fields["plan"] = json.dumps([record.plan.video_size, record.plan.chunk_size,
                                         record.plan.count])
            fields["uploaded_bytes"] = "0"
        if record.upload_url:
            fields["upload_url"] = self._vault.encrypt(record.upload_url.encode(),
                                                       _context(record))
        name = redis_key("publish", record.publish_id)
        pipe = self._redis.pipeline()
        pipe.hset(name, mapping=fields)
        if record.status:
            pipe.hsetnx(name, "status", record.status)
        pipe.expire(name, PUBLISH_TTL)
        pipe.execute()

    def load(self, publish_id: str) -> PublishRecord | None:
        """The record, with the upload_url unsealed, or None."""
        raw: dict[str, str] = self._redis.hgetall(redis_key("publish", publish_id))  # type: ignore[assignment]
        if not raw or "owner" not in raw:
            return None
        record = PublishRecord(
            publish_id=publish_id, owner=raw["owner"], source=raw.get("source", ""),
            status=raw.get("status") or None, fail_reason=raw.get("fail_reason") or None,
            post_ids=json.loads(raw["post_ids"]) if "post_ids" in raw else None,
            uploaded_bytes=int(raw["uploaded_bytes"]) if "uploaded_bytes" in raw else None,
            plan=ChunkPlan(*json.loads(raw["plan"])) if "plan" in raw else None,
            from_webhook=raw.get("from_webhook") == "1",
            fetched_at=float(raw.get("fetched_at", "0")))
        if "upload_url" in raw:
            try:
                record.upload_url = self._vault.decrypt(raw["upload_url"],
                                                        _context(record)).decode()
            except VaultError:  # its key was retired: the upload cannot continue
                record.upload_url = None
        return record

    def owned(self, publish_id: str, open_id: str) -> PublishRecord:
        """The caller's own record; another user's post is as unknown as a missing one."""
        record = self.load(check_publish_id(publish_id))
        if record is None or record.owner != open_id:
            raise NotFound("You have no post with this publish_id.", code="publish_not_found")
        return record

    def set_uploaded(self, publish_id: str, uploaded: int, done: bool = False) -> None:
        """Record how many bytes TikTok holds (a new PUT resumes from there)."""
        mapping: dict[FieldT, EncodableT] = {"uploaded_bytes": str(uploaded)}
        if done:
            mapping["status"] = "PROCESSING_UPLOAD"  # §5.5: processing starts after the last chunk
        pipe = self._redis.pipeline()
        pipe.hset(redis_key("publish", publish_id), mapping=mapping)
        pipe.expire(redis_key("publish", publish_id), PUBLISH_TTL)
        pipe.execute()

    def save_fetched(self, publish_id: str, fetched: dict[str, Any]) -> None:
        """Store what TikTok's status fetch said; news a webhook brought meanwhile wins."""
        self._merge(publish_id, fetched, webhook=False)

    def apply_event(self, publish_id: str, owner: str, change: dict[str, Any]) -> None:
        """Merge a webhook's news; a record the broker never saw gets `owner` from the event."""
        self._merge(publish_id, {**change, "owner": owner}, webhook=True)

    def _merge(self, publish_id: str, change: dict[str, Any], *, webhook: bool) -> None:
        """Apply news atomically (WATCH): terminal states are never undone by late news."""
        name = redis_key("publish", publish_id)

        def update(pipe: Any) -> None:
            status, ids, owner, heard = pipe.hmget(name, ["status", "post_ids", "owner",
                                                          "from_webhook"])
            mapping: dict[FieldT, EncodableT] = {}
            new = change.get("status")
            if new and not (heard and not webhook) and not _regresses(status, new):
                mapping["status"] = new
                if change.get("fail_reason"):
                    mapping["fail_reason"] = change["fail_reason"]
            if change.get("post_ids") is not None and not heard:
                mapping["post_ids"] = json.dumps(change["post_ids"])
            if change.get("add_post_id") or change.get("drop_post_id"):
                kept = [i for i in json.loads(ids or "[]") if i != change.get("drop_post_id")]
                if change.get("add_post_id") and change["add_post_id"] not in kept:
                    kept.append(change["add_post_id"])
                mapping["post_ids"] = json.dumps(kept)
            if change.get("uploaded_bytes") is not None:
                mapping["uploaded_bytes"] = str(change["uploaded_bytes"])
            if webhook:
                mapping["from_webhook"] = "1"
            else:
                mapping["fetched_at"] = str(self._clock.now())
            if not owner and change.get("owner"):
                mapping["owner"] = change["owner"]
            pipe.multi()
            pipe.hset(name, mapping=mapping)
            pipe.expire(name, PUBLISH_TTL)

        self._redis.transaction(update, name)


def _regresses(current: str | None, new: str) -> bool:
    """Whether `new` would undo a terminal state (a late or duplicated webhook)."""
    if current == "FAILED":
        return True
    return current == "PUBLISH_COMPLETE" and new != "FAILED"


def _context(record: PublishRecord) -> str:
    return f"upload-url:{record.publish_id}:{record.owner}"
