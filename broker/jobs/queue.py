"""The job library under the worker: RQ queues over the broker's Redis, jobs stored as JSON
(never pickle) and named by their function's path in `broker.worker`.

RQ's own scheduler (`enqueue_at`, run by `python -m broker worker`) holds the jobs until their
time; its `Retry` re-runs a failed event delivery on a schedule. RQ's keys live under `rq:`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

POSTS, EVENTS = "tb-posts", "tb-events"
JOBS = "broker.worker"  # where the job functions are (they build the services they need)
RUN_TIMEOUT = 6 * 3600  # seconds a post's job may run: a 4 GB upload at a slow source
# Event deliveries: retried for about 32 h in all (SPEC: at least 24 h), growing gaps.
EVENT_RETRIES = (5, 30, 120, 600, 1800, 3600, 7200, 14_400, 21_600, 21_600, 21_600, 21_600)
EVENT_KEEP = 3 * 86_400  # seconds RQ keeps a delivery that failed for good


class JobQueue:
    """Puts the worker's jobs on RQ's queues; built once, used by requests and jobs alike."""

    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection  # decode_responses=False: RQ stores bytes
        self.posts = Queue(POSTS, connection=connection, serializer=JSONSerializer)
        self.events = Queue(EVENTS, connection=connection, serializer=JSONSerializer)

    def run_post(self, post_id: str, at: float | None, tag: str) -> None:
        """Run (or resume) a post, at `at` (epoch seconds) or as soon as possible."""
        self._at(at, "run_post", post_id, job_id=f"post-{post_id}-{tag}")

    def watch_post(self, post_id: str, at: float) -> None:
        """Look at a running post at `at`: a worker that stopped renewing its lease has died."""
        self._at(at, "watch_post", post_id, job_id=None)

    def check_post(self, post_id: str, at: float, round_: int) -> None:
        """Ask TikTok for the status of a post it has, at `at` (when no webhook told us)."""
        self._at(at, "check_post", post_id, round_, job_id=None)

    def deliver_event(self, event_id: str) -> None:
        """Deliver an event to the app's backend, retried on RQ's schedule until it lands."""
        self.events.enqueue(f"{JOBS}.deliver_event", event_id, job_id=f"event-{event_id}",
                            retry=Retry(max=len(EVENT_RETRIES), interval=list(EVENT_RETRIES)),
                            result_ttl=600, failure_ttl=EVENT_KEEP, job_timeout=60)

    def _at(self, at: float | None, name: str, *args: object, job_id: str | None) -> None:
        options = {"job_timeout": RUN_TIMEOUT, "result_ttl": 600, "failure_ttl": 7 * 86_400,
                   "job_id": job_id}
        if at is None:
            self.posts.enqueue(f"{JOBS}.{name}", *args, **options)
        else:
            self.posts.enqueue_at(datetime.fromtimestamp(at, UTC), f"{JOBS}.{name}", *args,
                                  **options)
