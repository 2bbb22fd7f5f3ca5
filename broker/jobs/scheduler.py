"""Scheduled posts on the request side: check a post as far as the broker can before TikTok
hears of it, keep its record, and put it on the worker's queue for its time (SPEC "Scheduled
posts"). `source_url` media is opened once here, so a refusal is a 400 before anything runs."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import ValidationError

from broker.auth.jwts import Principal
from broker.clock import Clock
from broker.errors import BadRequest, Conflict
from broker.jobs.queue import JobQueue
from broker.jobs.records import WAITING, Post, PostStore, parse_time
from broker.jobs.schemas import PostRequest
from broker.posting import rules
from broker.schemas import PhotoPostInfo, VideoPostInfo, VideoRequest
from broker.sources.fetcher import SourceFetcher


class PostStarted(Conflict):
    code = "post_started"
    description = "The post already started or ended; only a waiting post can be cancelled."


class PostScheduler:
    """Creates, lists and cancels a caller's posts."""

    def __init__(self, *, store: PostStore, queue: JobQueue, fetcher: SourceFetcher,
                 clock: Clock, audited: bool, verified: tuple[str, ...]) -> None:
        self.store, self._queue, self._fetcher, self._clock = store, queue, fetcher, clock
        self._audited, self._verified = audited, verified

    def create(self, who: Principal, body: PostRequest, post_id: str | None = None) -> Post:
        """Check and keep a post, and queue it; the same `post_id` again returns the first."""
        rules.require_scope(who.scopes, body.mode)
        model = VideoPostInfo if body.kind == "video" else PhotoPostInfo
        try:
            parsed = model.model_validate(body.post_info.model_dump(exclude_unset=True)
                                          if body.post_info is not None else {})
        except ValidationError:
            raise BadRequest(f"post_info holds fields a {body.kind} post does not take.",
                             code="invalid_post_info") from None
        info = rules.post_info_fields(parsed)
        rules.check_texts(info, title_max=2200 if body.kind == "video" else 90)
        if body.mode == "direct":
            rules.check_privacy(info, audited=self._audited)
        elif body.kind == "photo":
            info = {k: v for k, v in info.items() if k in rules.PHOTO_DRAFT_FIELDS}
        publish_at = self._publish_at(body.publish_at)
        media = self._media(body)
        post = Post(post_id=post_id or "pst_" + secrets.token_hex(12), owner=who.open_id,
                    kind=body.kind, mode=body.mode, post_info=info, media=media,
                    created_at=self._clock.now(), publish_at=publish_at)
        if not self.store.create(post):
            return self.store.owned(post.post_id, who.open_id)  # a retry of the same request
        self._queue.run_post(post.post_id, publish_at, "first")
        return post

    def from_video(self, who: Principal, body: VideoRequest, post_id: str | None) -> Post:
        """`POST /api/videos` with `source_url`: a post for as soon as possible."""
        if body.video_url is not None or body.video_size is not None:
            raise BadRequest("Give one of source_url, video_url or video_size.",
                             code="invalid_video_source")
        return self.create(who, PostRequest.model_validate({
            "kind": "video", "mode": body.mode, "post_info": body.post_info,
            "source_url": body.source_url}), post_id)

    def cancel(self, owner: str, post_id: str) -> None:
        """Cancel a post still waiting (scheduled or deferred); 409 post_started otherwise."""
        self.store.owned(post_id, owner)

        def apply(post: Post) -> Post | None:
            if post.status == "cancelled":
                return None
            if post.status not in WAITING:
                raise PostStarted()
            post.status, post.next_attempt_at = "cancelled", None
            return post
        self.store.update(post_id, apply)

    def _publish_at(self, raw: str | None) -> float | None:
        if raw is None:
            return None
        stamp = parse_time(raw)
        if stamp > self._clock.now() + self.store.ttl - 86_400:
            raise BadRequest("publish_at is further ahead than posts are kept "
                             "(POST_RECORD_DAYS, less a day).", code="invalid_publish_at")
        return stamp if stamp > self._clock.now() else None

    def _media(self, body: PostRequest) -> dict[str, Any]:
        if body.kind == "photo":
            images = body.photo_images or []
            if not images or body.source_url or body.video_url:
                raise BadRequest("A photo post takes photo_images (1 to 35 https URLs) only.",
                                 code="invalid_photo_images")
            cover = body.photo_cover_index
            if cover >= len(images):
                raise BadRequest("photo_cover_index must be the 0-based index of one of the "
                                 "images.", code="invalid_photo_cover_index")
            return {"photo_images": [rules.check_pull_url(u, self._verified) for u in images],
                    "photo_cover_index": cover}
        if (body.source_url is None) == (body.video_url is None) or body.photo_images:
            raise BadRequest("A video post takes either source_url (the broker fetches it) or "
                             "video_url (TikTok pulls it).", code="invalid_video_source")
        if body.video_url is not None:
            return {"video_url": rules.check_pull_url(body.video_url, self._verified)}
        self._fetcher.check(str(body.source_url))  # refusals: 400 media_source_refused
        return {"source_url": body.source_url}

