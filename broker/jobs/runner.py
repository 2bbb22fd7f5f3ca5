"""Running a post in the worker: claim it, check the creator again, start it at TikTok once,
stream a `source_url` to TikTok chunk by chunk, and hand it to TikTok's processing.

A post is claimed by one worker at a time (a lease in its record, renewed while it runs, and a
`watch_post` job after the lease: a worker that died is replaced by the next one that looks). A
post is started at TikTok at most once: `stage` is set to "init_sent" before the init and the
publish_id kept as soon as TikTok answers; a post found "init_sent" without one is failed
(`start_unconfirmed`), never started again.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, cast

import redis

from broker.clock import Clock
from broker.jobs.outcomes import MAX_RETRIES, Deferred, PostFailed, judge
from broker.jobs.queue import JobQueue
from broker.jobs.records import WAITING, Post, PostStore
from broker.jobs.tracking import PostTracker
from broker.posting.fallback import init_upload
from broker.posting.publisher import Publisher
from broker.posting.rules import plan_chunks
from broker.posting.uploads import Uploader
from broker.sources.fetcher import OpenedSource, SourceFetcher
from broker.storage.keyspace import redis_key
from broker.tiktok.content_posting import Started

log = logging.getLogger(__name__)
INIT_LIMIT = 6  # §7: 6 init calls a minute per user access token


@dataclass(frozen=True)
class RunPolicy:
    lease: float  # POST_LEASE_SECONDS
    retry_base: float  # POST_RETRY_SECONDS, doubled per transient failure
    cap_wait: float  # POST_CAP_RETRY_SECONDS
    chunk_size: int  # UPLOAD_CHUNK_SIZE


class PostRunner:
    """The worker's side of scheduled posts; one per worker process."""

    def __init__(self, *, store: PostStore, queue: JobQueue, publisher: Publisher,
                 uploader: Uploader, fetcher: SourceFetcher, tracker: PostTracker,
                 redis_client: redis.Redis, clock: Clock, policy: RunPolicy) -> None:
        self._store, self._queue, self._publisher = store, queue, publisher
        self._uploader, self._fetcher, self._tracker = uploader, fetcher, tracker
        self._redis, self._clock, self.policy = redis_client, clock, policy

    def run(self, post_id: str) -> None:
        """Run (or resume) the post if it is due and nobody alive runs it."""
        claim = f"{os.getpid()}-{secrets.token_hex(8)}"  # which process holds it, for operators
        post = self._claim(post_id, claim)
        if post is None:
            return
        self._queue.watch_post(post_id, post.lease_until + 1)
        try:
            self._advance(post)
        except Exception as exc:  # every outcome is judged; nothing escapes to RQ
            self._settle(post_id, claim, exc)

    def watch(self, post_id: str) -> None:
        """After a lease: resume the post if its worker stopped renewing it, else look again."""
        post = self._store.load(post_id)
        if post is None or post.status != "running":
            return
        if post.lease_until < self._clock.now():
            log.warning("post %s: its worker stopped; resuming it", post_id)
            self.run(post_id)
        else:
            self._queue.watch_post(post_id, post.lease_until + 1)

    def _claim(self, post_id: str, claim: str) -> Post | None:
        now = self._clock.now()

        def take(post: Post) -> Post | None:
            if post.status in WAITING:
                due = post.next_attempt_at if post.status == "deferred" else post.publish_at
                if due is not None and due > now + 1:
                    return None  # an early job: the one scheduled for its time runs it
                post.attempts += 1
                post.next_attempt_at = None
            elif post.status != "running" or post.lease_until >= now:
                return None  # done, cancelled, or running in a live worker
            elif post.publish_id:  # its worker died mid-upload: its upload lock is stale
                self._redis.delete(redis_key("upload-lock", post.publish_id))
            post.status, post.runner, post.lease_until = "running", claim, now + self.policy.lease
            return post
        return self._store.update(post_id, take)

    def _advance(self, post: Post) -> None:
        if post.stage == "init_sent" and not post.publish_id:
            raise PostFailed("start_unconfirmed")  # its worker died waiting for TikTok
        if not post.publish_id:
            post = self._start(post)
        if post.stage == "uploading":
            self._upload(post, None)
        self._handed_over(post)

    def _start(self, post: Post) -> Post:
        owner, media = post.owner, post.media
        if not media:
            raise PostFailed("media_unreadable")  # sealed with a key no longer configured
        if post.mode == "direct":
            self._check_creator(post)
        wait = self._publisher.budget.take("init", owner, INIT_LIMIT)
        if wait:
            raise Deferred(wait, "init_rate_limit")
        info = post.post_info
        if post.kind == "photo":
            return self._started(post, lambda: self._publisher.init_photo(
                owner, post.mode, info, media["photo_images"], media.get("photo_cover_index", 0)))
        if media.get("video_url"):
            source = {"source": "PULL_FROM_URL", "video_url": media["video_url"]}
            started = self._started(post, lambda: self._publisher.init_video(
                owner, post.mode, info, source))
            return started
        opened = self._fetcher.open(media["source_url"])
        try:
            plan = plan_chunks(opened.size, self.policy.chunk_size)

            def init() -> Started:
                taken, started = init_upload(plan, lambda src: self._publisher.init_video(
                    owner, post.mode, info, src))
                self._publisher.keep_started(owner, started, taken.source_info(), taken)
                return started
            post = self._started(post, init, stage="uploading")
            self._upload(post, opened)
        finally:
            opened.close()
        return post

    def _started(self, post: Post, init: Callable[[], Started], stage: str = "") -> Post:
        self._mark(post, stage="init_sent")
        started = init()
        return self._mark(post, stage=stage, publish_id=started.publish_id)

    def _upload(self, post: Post, opened: OpenedSource | None) -> None:
        record = self._publisher.records.load(post.publish_id or "")
        if record is None or record.plan is None:
            raise PostFailed("upload_lost")
        if (record.uploaded_bytes or 0) < record.plan.video_size:
            source = opened or self._fetcher.open(post.media["source_url"])
            try:
                if source.size != record.plan.video_size:
                    raise PostFailed("source_changed")
                stream = cast(IO[bytes], _Leased(source, lambda: self._renew(post)))
                self._uploader.upload(record, stream, source.size, source.content_type)
            finally:
                if opened is None:
                    source.close()
        self._mark(post, stage="")

    def _check_creator(self, post: Post) -> None:
        """The creator info again, at run time (SPEC): options change, posting may be paused."""
        self._publisher.forget(post.owner)
        info = self._publisher.creator_info(post.owner)
        if info.get("creator_can_post") is False:  # §5.1 [OBS]
            raise Deferred(self.policy.cap_wait, "creator_cannot_post")
        if post.post_info.get("privacy_level") not in (info.get("privacy_level_options") or []):
            raise PostFailed("privacy_level_option_mismatch")

    def _mark(self, post: Post, **changes: Any) -> Post:
        def apply(current: Post) -> Post | None:
            if current.runner != post.runner or current.status != "running":
                raise PostFailed("lease_lost")  # another worker took it over: stop here
            for name, value in changes.items():
                setattr(current, name, value)
            current.lease_until = self._clock.now() + self.policy.lease
            return current
        stored = self._store.update(post.post_id, apply)
        if stored is None:
            raise PostFailed("post_gone")
        for name, value in changes.items():
            setattr(post, name, value)
        return stored

    def _renew(self, post: Post) -> None:
        self._mark(post)

    def _handed_over(self, post: Post) -> None:
        def apply(current: Post) -> Post | None:
            if current.runner != post.runner or current.status != "running":
                return None
            current.status, current.stage, current.lease_until = "processing", "", 0.0
            return current
        if self._store.update(post.post_id, apply) is not None:
            self._queue.check_post(post.post_id, self._clock.now() + 15, 0)

    def _settle(self, post_id: str, claim: str, exc: Exception) -> None:
        current = self._store.load(post_id)
        if current is None or current.runner != claim or current.status != "running":
            return  # lease lost: whoever holds it decides
        verdict = judge(exc, init_sent=current.stage == "init_sent",
                        cap_wait=self.policy.cap_wait)
        if verdict.action == "retry" and current.retries + 1 >= MAX_RETRIES:
            verdict = type(verdict)("fail", verdict.reason)
        log.info("post %s: %s (%s)", post_id, verdict.action, verdict.reason)
        now = self._clock.now()

        def apply(post: Post) -> Post | None:
            if post.runner != claim or post.status != "running":
                return None
            if post.stage == "init_sent" and verdict.reason != "start_unconfirmed":
                post.stage = ""  # TikTok answered with a refusal: nothing was started
            post.lease_until = 0.0
            if verdict.action == "fail":
                post.status, post.fail_reason, post.next_attempt_at = "failed", verdict.reason, None
                return post
            if verdict.action == "retry":
                post.retries += 1
                wait = self.policy.retry_base * 2 ** (post.retries - 1)
            else:
                wait = max(verdict.seconds, 1.0)
            post.status, post.next_attempt_at = "deferred", now + wait
            return post
        post = self._store.update(post_id, apply)
        if post is None:
            return
        if post.status == "failed":
            self._tracker.failed(post)
        elif post.next_attempt_at is not None:
            self._queue.run_post(post_id, post.next_attempt_at, f"{post.attempts}")


class _Leased:
    """A source stream that renews the post's lease as it is read (at most every 2 s)."""

    def __init__(self, source: OpenedSource, renew: Callable[[], None]) -> None:
        self._source, self._renew, self._reads = source, renew, 0

    def read(self, size: int) -> bytes:
        self._reads += 1
        if self._reads % 8 == 0:  # every 8 MiB read (1 MiB pieces)
            self._renew()
        return self._source.read(size)
