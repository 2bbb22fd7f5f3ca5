"""What TikTok says about a post the worker started (webhooks, or a status fetch when no webhook
came) moves its record on and tells the app's backend; a public id arriving days late (§5.11)
is added to `post_ids` for as long as the record lives (POST_RECORD_DAYS)."""

from __future__ import annotations

from typing import Any

from broker.clock import Clock
from broker.errors import BrokerError
from broker.jobs.events import AppEvents, post_event
from broker.jobs.queue import JobQueue
from broker.jobs.records import Post, PostStore
from broker.posting.publisher import Publisher

NEWS = {"PUBLISH_COMPLETE": ("published", "post.published"),
        "SEND_TO_USER_INBOX": ("inbox", "post.inbox_delivered"),
        "FAILED": ("failed", "post.failed")}
OPEN = ("running", "processing")
CHECKS = 12  # status fetches after a hand-over, 15 s apart at first, then doubling (about 17 h)


class PostTracker:
    """Applies TikTok's news about a publish_id to the post that started it."""

    def __init__(self, store: PostStore, events: AppEvents, publisher: Publisher,
                 queue: JobQueue, clock: Clock) -> None:
        self._store, self._events, self._publisher = store, events, publisher
        self._queue, self._clock = queue, clock

    def check(self, post_id: str, round_: int) -> None:
        """Ask TikTok how a processing post is doing (no webhook came); look again later."""
        post = self._store.load(post_id)
        if post is None or post.status != "processing" or not post.publish_id:
            return
        try:
            status = self._publisher.status(post.owner, post.publish_id, force=True)
        except BrokerError:
            status = None  # TikTok unavailable, rate limited...: the next round asks again
        if status is not None:
            post = self.news(post.publish_id, status.model_dump()) or post
        if post.status == "processing" and round_ + 1 < CHECKS:
            self._queue.check_post(post_id, self._clock.now() + 15 * 2 ** round_, round_ + 1)

    def news(self, publish_id: str, change: dict[str, Any]) -> Post | None:
        """Apply a status (`status`, `fail_reason`) and post ids (`post_ids`, `add_post_id`)."""
        post_id = self._store.of_publish(publish_id)
        if post_id is None:
            return None
        emitted: list[str] = []

        def apply(post: Post) -> Post | None:
            emitted.clear()
            changed = False
            status, event = NEWS.get(str(change.get("status")), (None, None))
            if status and event and post.status in OPEN:
                post.status, changed = status, True
                post.lease_until, post.stage = 0.0, ""
                if status == "failed":
                    post.fail_reason = str(change.get("fail_reason") or "") or None
                emitted.append(event)
            ids = list(post.post_ids or [])
            for new in [*(change.get("post_ids") or []), change.get("add_post_id")]:
                if new and str(new) not in ids:
                    ids.append(str(new))
            if ids != (post.post_ids or []):
                post.post_ids, changed = ids, True
                emitted.append("post.publicly_available")
            return post if changed else None

        post = self._store.update(post_id, apply)
        if post is not None:
            for kind in emitted:
                self._events.emit(kind, post_event(kind, post.view(), post.fail_reason))
        return post

    def failed(self, post: Post) -> None:
        """Tell the app a post failed before TikTok had it."""
        self._events.emit("post.failed", post_event("post.failed", post.view(), post.fail_reason))
