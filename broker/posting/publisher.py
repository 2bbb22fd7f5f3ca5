"""Posting for a user: check the request, ask TikTok (with a fresh token), keep the record.

Creator info is cached briefly per user (`tb:creator:<open_id>`), so the check of a direct
post's privacy level against the creator's options usually costs TikTok nothing; statuses are
fetched within TikTok's per-token limit of §7.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from broker.auth.jwts import Principal
from broker.clock import Clock
from broker.errors import BadRequest, Conflict, RateLimited, UpstreamError
from broker.grants import GrantKeeper
from broker.posting import rules
from broker.posting.budget import CallBudget
from broker.posting.fallback import init_upload
from broker.posting.records import PublishRecord, PublishStore, check_publish_id
from broker.posting.rules import ChunkPlan
from broker.schemas import PhotoRequest, PostStarted, PublishStatus, VideoRequest
from broker.storage.keyspace import redis_key
from broker.tiktok.content_posting import ContentPosting, Started

CREATOR_INFO_TTL = 30  # seconds; §5.10 wants fresh creator info on every render of the page
STATUS_LIMIT = 30  # §7: status/fetch, 30 requests/min per user access_token
STATUS_MIN_INTERVAL = 2.0  # seconds between two fetches of one post's status
MAX_PHOTOS = 35  # §5.4


@dataclass(frozen=True)
class PostingPolicy:
    """What the app's configuration says about posting."""

    audited: bool  # TIKTOK_AUDITED: passed TikTok's Content Posting audit (§5.9)
    verified_url_prefixes: tuple[str, ...]  # TIKTOK_VERIFIED_URL_PREFIXES (§5.7)
    chunk_size: int  # UPLOAD_CHUNK_SIZE (§5.6)


def _ignore(answer: PostStarted) -> None:
    """The default `on_started`: nobody needs the answer early."""


class Publisher:
    """The posting operations of the API: built once per app, shared by every request."""

    def __init__(self, *, tiktok: ContentPosting, grants: GrantKeeper, records: PublishStore,
                 budget: CallBudget, redis_client: redis.Redis, clock: Clock,
                 policy: PostingPolicy) -> None:
        self.tiktok, self.grants, self.records, self.budget = tiktok, grants, records, budget
        self._redis, self._clock, self.policy = redis_client, clock, policy

    def creator_info(self, open_id: str) -> dict[str, Any]:
        """TikTok's creator info for the user, from a short cache (§5.1; 20 requests/min)."""
        name = redis_key("creator", open_id)
        cached = self._redis.get(name)
        if cached is not None:
            info: dict[str, Any] = json.loads(str(cached))
            return info
        info = self.grants.call(open_id, self.tiktok.creator_info)
        self._redis.set(name, json.dumps(info), ex=CREATOR_INFO_TTL)
        return info

    def forget(self, open_id: str) -> None:
        """Drop the user's cached creator info (the grant is gone)."""
        self._redis.delete(redis_key("creator", open_id))

    def allowed_privacy(self, info: dict[str, Any]) -> list[str]:
        """The creator's options this app may use: only SELF_ONLY before the audit (§5.9)."""
        options = [str(o) for o in info.get("privacy_level_options") or []]
        return options if self.policy.audited else [o for o in options if o == "SELF_ONLY"]

    def start_video(self, who: Principal, body: VideoRequest,
                    on_started: Callable[[PostStarted], None] = _ignore) -> PostStarted:
        """Check and start a video post: pull from `video_url` or upload `video_size` bytes."""
        mode = body.mode
        rules.require_scope(who.scopes, mode)
        url, size = body.video_url, body.video_size
        if (url is None) == (size is None):
            raise BadRequest("Give either video_url (TikTok pulls it) or video_size (you upload "
                             "the bytes to the broker).", code="invalid_video_source")
        info = rules.post_info_fields(body.post_info)
        if mode == "direct":
            rules.check_texts(info, title_max=2200)
            rules.check_privacy(info, audited=self.policy.audited)
        plan = None
        if url is not None:
            source = {"source": "PULL_FROM_URL",
                      "video_url": rules.check_pull_url(url, self.policy.verified_url_prefixes)}
        elif size is not None:
            plan = rules.plan_chunks(size, self.policy.chunk_size)
            source = plan.source_info()
        if mode == "direct":
            rules.check_offered(info, self.creator_info(who.open_id))
        if plan is not None:
            plan, started = init_upload(
                plan, lambda src: self.init_video(who.open_id, mode, info, src))
            source = plan.source_info()
        else:
            started = self.init_video(who.open_id, mode, info, source)
        answer = PostStarted(publish_id=started.publish_id)
        if plan is not None:
            answer = PostStarted(publish_id=started.publish_id,
                                 upload_url=f"/api/uploads/{started.publish_id}")
        on_started(answer)  # TikTok has the post: an idempotent retry must replay this answer
        self.keep_started(who.open_id, started, source, plan)
        return answer

    def init_video(self, open_id: str, mode: str, info: dict[str, Any],
                   source: dict[str, Any]) -> Started:
        """The video init of `mode` (§5.2 direct; §5.3 the inbox init takes source_info only)."""
        if mode == "direct":
            request = {"post_info": info, "source_info": source}
            return self.grants.call(open_id, lambda t: self.tiktok.init_video(t, request))
        inbox = {"source_info": source}
        return self.grants.call(open_id, lambda t: self.tiktok.init_inbox_video(t, inbox))

    def keep_started(self, open_id: str, started: Started, source: dict[str, Any],
                     plan: ChunkPlan | None) -> None:
        """Record a video TikTok accepted (an upload needs its upload_url)."""
        if plan is not None and not started.upload_url:
            raise UpstreamError("TikTok gave no upload_url.", code="tiktok_bad_response")
        self.records.create(PublishRecord(
            started.publish_id, open_id, source=source["source"], plan=plan,
            upload_url=started.upload_url,
            status="PROCESSING_UPLOAD" if plan else "PROCESSING_DOWNLOAD"))

    def start_photo(self, who: Principal, body: PhotoRequest,
                    on_started: Callable[[PostStarted], None] = _ignore) -> PostStarted:
        """Check and start a photo post (§5.4: pulled from verified URLs, 1 to 35 images)."""
        mode = body.mode
        rules.require_scope(who.scopes, mode)
        images, cover = body.photo_images, body.photo_cover_index  # 1 to 35 (§5.4), cover >= 0
        if cover >= len(images):
            raise BadRequest("photo_cover_index must be the 0-based index of one of the images.",
                             code="invalid_photo_cover_index")
        urls = [rules.check_pull_url(u, self.policy.verified_url_prefixes) for u in images]
        info = rules.post_info_fields(body.post_info)
        rules.check_texts(info, title_max=90)
        if mode == "direct":
            rules.check_privacy(info, audited=self.policy.audited)
            rules.check_offered(info, self.creator_info(who.open_id))
        else:
            info = {k: v for k, v in info.items() if k in rules.PHOTO_DRAFT_FIELDS}
        started = self.init_photo(who.open_id, mode, info, urls, cover)
        answer = PostStarted(publish_id=started.publish_id)
        on_started(answer)
        self.records.create(PublishRecord(started.publish_id, who.open_id, source="PULL_FROM_URL",
                                          status="PROCESSING_DOWNLOAD"))
        return answer

    def init_photo(self, open_id: str, mode: str, info: dict[str, Any], urls: list[str],
                   cover: int) -> Started:
        """The photo init (§5.4: pulled from verified URLs)."""
        request = {"media_type": "PHOTO",
                   "post_mode": "DIRECT_POST" if mode == "direct" else "MEDIA_UPLOAD",  # §5.4
                   "post_info": info,
                   "source_info": {"source": "PULL_FROM_URL", "photo_images": urls,
                                   "photo_cover_index": cover}}
        return self.grants.call(open_id, lambda t: self.tiktok.init_content(t, request))

    def status(self, open_id: str, publish_id: str, *, force: bool = False) -> PublishStatus:
        """The post's status: webhook news when any arrived, else TikTok's fetch (§5.5)."""
        record = self._visible(open_id, publish_id)
        now = self._clock.now()
        if record is not None and not force and (
                record.from_webhook or record.status == "FAILED"
                or now - record.fetched_at < STATUS_MIN_INTERVAL):
            return PublishStatus.model_validate(record.view())
        wait = self.budget.take("status", open_id, STATUS_LIMIT)
        if wait:
            if record is not None and record.status:
                return PublishStatus.model_validate(record.view())
            raise RateLimited("TikTok allows 30 status checks a minute; try again shortly.",
                              code="tiktok_rate_limited",
                              headers={"Retry-After": str(max(1, math.ceil(wait)))})
        fetched = self.grants.call(open_id, lambda t: self.tiktok.status(t, publish_id))
        if record is None:
            record = PublishRecord(publish_id, open_id)
            self.records.create(record)
        news = {"status": fetched.status, "fail_reason": fetched.fail_reason,
                "post_ids": fetched.post_ids, "uploaded_bytes": fetched.uploaded_bytes}
        self.records.save_fetched(publish_id, news)
        stored = self.records.load(publish_id)
        return PublishStatus.model_validate((stored or record).view())

    def cancel(self, open_id: str, publish_id: str) -> PublishStatus:
        """Cancel a pull still downloading (§5.7), then report the status."""
        record = self._visible(open_id, publish_id)
        if record is not None and record.source == "FILE_UPLOAD":
            raise Conflict("Only a pull from URL still downloading can be cancelled.",
                           code="publish_not_cancellable")
        self.grants.call(open_id, lambda token: self.tiktok.cancel(token, publish_id))
        return self.status(open_id, publish_id, force=True)

    def _visible(self, open_id: str, publish_id: str) -> PublishRecord | None:
        """The caller's record, None when the broker holds none (TikTok then decides)."""
        record = self.records.load(check_publish_id(publish_id))
        if record is not None and record.owner != open_id:
            self.records.owned(publish_id, open_id)  # raises publish_not_found
        return record
