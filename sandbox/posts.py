"""Publish tasks (§5): creation rules, chunk plans, and the status machine that runs with time."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import Config
from .users import USERS_BY_ID, TestUser

if TYPE_CHECKING:
    from .store import Clock
    from .webhooks import Webhooks

DAY = 86400.0
PULL_SIZE = 12_582_912  # pulls are simulated: no bytes are fetched; this is the "downloaded" size
TERMINAL = ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED")


@dataclass
class Upload:
    """The FILE_UPLOAD side of a task: the declared chunk plan and what has arrived."""

    upload_id: str
    token: str = field(repr=False)
    video_size: int
    chunk_size: int
    chunk_count: int
    expires_at: float
    received: int = 0
    chunks: list[dict[str, Any]] = field(default_factory=list)
    busy: bool = False

    def expected(self) -> tuple[int, int]:
        """(first byte, length) of the next chunk, following the floor rule of §5.6."""
        index = len([c for c in self.chunks if c["accepted"]])
        first = index * self.chunk_size
        last_len = self.video_size - (self.chunk_count - 1) * self.chunk_size
        return first, last_len if index == self.chunk_count - 1 else self.chunk_size


@dataclass
class Task:
    """One publish_id and its progress."""

    publish_id: str
    open_id: str
    media: str  # "video" or "photo"
    mode: str  # "direct" or "inbox"
    source: str  # "FILE_UPLOAD" or "PULL_FROM_URL"
    privacy: str
    created_at: float
    upload: Upload | None = None
    started_at: float | None = None  # when processing began (upload complete, or pull start)
    status: str = ""
    fail_reason: str = ""
    post_ids: list[int] = field(default_factory=list)
    fail_later: str = ""  # §5.11: a photo post that fails once TikTok looked at the images
    public_at: float | None = None  # §5.11: when a late public post id arrives

    @property
    def publish_type(self) -> str:
        """§6: DIRECT_PUBLISH [OBS] for direct posts, INBOX_SHARE for uploads."""
        return "DIRECT_PUBLISH" if self.mode == "direct" else "INBOX_SHARE"


def chunk_plan_problem(size: Any, chunk: Any, count: Any, cfg: Config) -> str | None:
    """Check a FILE_UPLOAD source_info against the §5.6 chunk rules; None when valid."""
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
               for v in (size, chunk, count)):
        return "video_size, chunk_size and total_chunk_count must be positive integers."
    mb = cfg.mb
    if size > 4 * 1024 * mb:
        return "video_size exceeds 4 GB."  # §5.8
    if size < 5 * mb:
        if chunk != size or count != 1:  # §5.6: files under 5 MB go up whole
            return "Files under 5 MB must be uploaded whole: chunk_size = video_size, count 1."
        return None
    if not 5 * mb <= chunk <= 64 * mb or chunk > size:
        return "chunk_size must be between 5 MB and 64 MB and not above video_size."
    allowed = {size // chunk}  # §5.6: total_chunk_count = floor(video_size / chunk_size)
    if cfg.chunk_count == "lenient":  # §5.6 [OBS]: some clients use ceiling division
        allowed.add(-(-size // chunk))
    if count not in allowed:
        return f"total_chunk_count must be floor(video_size / chunk_size) = {size // chunk}."
    if count > 1000:
        return "At most 1000 chunks."
    if size > 64 * mb and count < 2:  # §5.6: files over 64 MB must be chunked
        return "Files over 64 MB must be uploaded in at least two chunks."
    if count == size // chunk and size - (count - 1) * chunk > 128 * mb:
        return "The final chunk would exceed 128 MB."
    return None


class Posts:
    """All publish tasks plus the per-creator counters of §5.9, under one lock."""

    def __init__(self, clock: Clock, webhooks: Webhooks, config: Any) -> None:
        self.clock = clock
        self.webhooks = webhooks
        self._config = config  # callable returning the current Config
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every task and counter."""
        with self.lock:
            self.tasks: dict[str, Task] = {}
            self.uploads: dict[str, Task] = {}

    # --- §5.9 caps ---------------------------------------------------------------------------
    def _recent(self, open_id: str | None = None, mode: str | None = None) -> list[Task]:
        since = self.clock.now() - DAY
        return [t for t in self.tasks.values() if t.created_at > since
                and (open_id is None or t.open_id == open_id) and (mode is None or t.mode == mode)]

    def posting_refusal(self, user: TestUser, mode: str = "direct") -> tuple[str, str] | None:
        """Why this creator cannot post now (§5.1, §5.9), as (code, message), or None."""
        cfg: Config = self._config()
        with self.lock:
            if user.banned:
                return ("spam_risk_user_banned_from_posting",
                        "The user is banned from making new posts.")
            if mode == "direct":
                posts = len(self._recent(user.open_id, "direct"))
                if user.at_cap or posts >= cfg.posts_per_day:
                    return ("spam_risk_too_many_posts",
                            "The user has reached the daily post limit for API clients.")
            active = {t.open_id for t in self._recent()}
            capped = len(active) >= cfg.active_user_cap
            if not cfg.audited and user.open_id not in active and capped:
                return ("reached_active_user_cap",
                        "The daily quota of active creators for this client is reached.")
            pending = len(self._recent(user.open_id, "inbox"))
            if mode == "inbox" and pending >= cfg.pending_share_cap:
                return ("spam_risk_too_many_pending_share",  # §5.3: 5 pending shares per 24 h
                        "The user has too many pending shares in the last 24 hours.")
        return None

    # --- creation ----------------------------------------------------------------------------
    def create(self, open_id: str, media: str, mode: str, source: str, privacy: str,
               plan: tuple[int, int, int] | None = None) -> Task:
        """Register a new task; FILE_UPLOAD tasks get an upload slot (§5.2: URL valid 1 h)."""
        cfg: Config = self._config()
        now = self.clock.now()
        kind = "file" if source == "FILE_UPLOAD" else "url"
        prefix = {"video": "v", "photo": "p"}[media] + ("_pub_" if mode == "direct" else "_inbox_")
        publish_id = f"{prefix}{kind}~v2-1.{secrets.randbelow(10**19):019d}"  # §5.2: ≤ 64 chars
        task = Task(publish_id, open_id, media, mode, source, privacy, now)
        with self.lock:
            if plan is not None:
                task.upload = Upload(secrets.token_hex(12), secrets.token_urlsafe(24), *plan,
                                     expires_at=now + cfg.upload_url_ttl)
                task.status = "PROCESSING_UPLOAD"
                self.uploads[task.upload.upload_id] = task
            else:
                task.status = "PROCESSING_DOWNLOAD"
                task.started_at = now
            self.tasks[publish_id] = task
        return task

    # --- the status machine ------------------------------------------------------------------
    def view(self, task: Task) -> dict[str, Any]:
        """The status/fetch data (§5.5), after advancing the task to the current time."""
        with self.lock:
            self.advance(task)
            data: dict[str, Any] = {
                "status": task.status,
                "fail_reason": task.fail_reason,
                "publicaly_available_post_id": list(task.post_ids),  # §5.5: doc's spelling
            }
            if task.upload is not None:
                data["uploaded_bytes"] = task.upload.received
            else:
                data["downloaded_bytes"] = self._downloaded(task)
            return data

    def _downloaded(self, task: Task) -> int:
        if task.status in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
            return PULL_SIZE
        span = self._config().processing_seconds
        elapsed = self.clock.now() - (task.started_at or task.created_at)
        return PULL_SIZE if span <= 0 else int(PULL_SIZE * min(1.0, elapsed / span) * 0.99)

    def advance(self, task: Task) -> None:
        """Move a task to its terminal state once processing time has passed; fire webhooks."""
        with self.lock:
            if task.status in TERMINAL or task.started_at is None:
                return
            if self.clock.now() < task.started_at + self._config().processing_seconds:
                return
            content: dict[str, Any] = {"publish_id": task.publish_id,
                                       "publish_type": task.publish_type}
            if task.fail_later:
                self.fail(task, task.fail_later)
                return
            if task.mode == "inbox":
                task.status = "SEND_TO_USER_INBOX"
                self.webhooks.send("post.publish.inbox_delivered", task.open_id, content)
                return
            task.status = "PUBLISH_COMPLETE"
            self.webhooks.send("post.publish.complete", task.open_id, content)
            if task.privacy != "SELF_ONLY":  # §5.5: ids only once the post is public
                task.public_at = self.clock.now() + self._config().public_id_delay
                self.release_public_id(task)

    def release_public_id(self, task: Task) -> None:
        """Give a public post its id once `public_at` passed (§5.11: hours or days late)."""
        with self.lock:
            if task.public_at is None or self.clock.now() < task.public_at:
                return
            task.public_at = None
            task.post_ids = [7_000_000_000_000_000_000 + secrets.randbelow(10**17)]
            self.webhooks.send("post.publish.publicly_available", task.open_id,
                               {"publish_id": task.publish_id, "post_id": str(task.post_ids[0]),
                                "publish_type": task.publish_type})

    def tick(self) -> None:
        """Advance every unfinished task (run by a background thread)."""
        with self.lock:
            for task in list(self.tasks.values()):
                self.advance(task)
                self.release_public_id(task)

    def fail(self, task: Task, reason: str) -> None:
        """End a task as FAILED with ``reason`` and fire post.publish.failed (§6)."""
        with self.lock:
            if task.status in TERMINAL:
                return
            task.status, task.fail_reason = "FAILED", reason
            self.webhooks.send("post.publish.failed", task.open_id,
                               {"publish_id": task.publish_id, "reason": reason,
                                "publish_type": task.publish_type})

    def fail_user(self, open_id: str) -> None:
        """A user's grant ended: their unfinished tasks fail with auth_removed (§5.5)."""
        with self.lock:
            for task in self.tasks.values():
                if task.open_id == open_id:
                    self.advance(task)
                    self.fail(task, "auth_removed")

    def user(self, task: Task) -> TestUser:
        """The creator who owns a task."""
        return USERS_BY_ID[task.open_id]
