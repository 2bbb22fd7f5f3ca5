"""Events to the app's backend, signed the Standard Webhooks way (the `standardwebhooks` package).

`emit` never blocks a request: it stores the body (`tb:app-event:<id>`, 3 days) and puts a
delivery on the worker's queue. The worker POSTs it with `webhook-id` (the same on every retry),
a fresh `webhook-timestamp` and `webhook-signature`; anything but a 2xx is retried by RQ on the
schedule in broker.jobs.queue, for about 32 hours.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import redis
import requests
from standardwebhooks.webhooks import Webhook

from broker.clock import Clock
from broker.jobs.queue import EVENT_KEEP, JobQueue
from broker.jobs.records import rfc3339
from broker.storage.keyspace import redis_key

log = logging.getLogger(__name__)
TIMEOUT = (3.05, 10.0)  # connect, read: the app answers quickly or is retried later
HINTS = {  # post.failed: what the app can tell its user (TikTok's fail_reason stays as given)
    "picture_size_check_failed": "One of the photos is over 1080 px on its short side.",
    "file_format_check_failed": "TikTok takes JPEG and WEBP photos, and MP4, MOV or WebM video.",
    "app_version_check_failed": "Drafts need TikTok 31.8 or later on the creator's phone.",
    "spam_risk_too_many_posts": "The account reached TikTok's daily post limit.",
    "privacy_level_option_mismatch": "The chosen privacy is no longer offered to this creator.",
    "start_unconfirmed": "TikTok did not confirm the start; check the account before retrying.",
}


class EventDeliveryFailed(Exception):
    """The app's backend did not take the event; RQ retries the delivery."""


class AppEvents:
    """Signs and delivers the broker's events to APP_WEBHOOK_URL (off when it is unset)."""

    def __init__(self, *, url: str, secret: str, redis_client: redis.Redis, queue: JobQueue,
                 clock: Clock) -> None:
        self._url, self._redis, self._queue, self._clock = url, redis_client, queue, clock
        self._signer = Webhook(secret) if secret else None
        self._http = requests.Session()

    @property
    def enabled(self) -> bool:
        return bool(self._url and self._signer)

    def emit(self, kind: str, data: dict[str, Any]) -> str | None:
        """Queue one event for delivery; returns its webhook-id (None when events are off)."""
        if not self.enabled:
            return None
        event_id = "msg_" + secrets.token_hex(16)
        body = self.body(kind, data)
        self._redis.set(redis_key("app-event", event_id), body, ex=EVENT_KEEP)
        self._queue.deliver_event(event_id)
        return event_id

    def body(self, kind: str, data: dict[str, Any]) -> str:
        """The JSON body Standard Webhooks signs: `{"type", "timestamp", "data"}`."""
        return json.dumps({"type": kind, "timestamp": rfc3339(self._clock.now()), "data": data})

    def deliver(self, event_id: str) -> None:
        """One delivery attempt (by the worker); raises EventDeliveryFailed to be retried."""
        body = self._redis.get(redis_key("app-event", event_id))
        if body is None:
            log.warning("app event %s expired before it was delivered", event_id)
            return
        status = self.send(event_id, str(body))
        if not 200 <= status < 300:
            raise EventDeliveryFailed(f"the app's backend answered {status or 'nothing'}")
        self._redis.delete(redis_key("app-event", event_id))

    def send(self, event_id: str, body: str) -> int:
        """POST a signed body to the app; its HTTP status, or 0 when it could not be reached."""
        if self._signer is None:
            raise EventDeliveryFailed("APP_WEBHOOK_URL and APP_WEBHOOK_SECRET are not set")
        now = datetime.fromtimestamp(self._clock.now(), UTC)
        headers = {"Content-Type": "application/json", "webhook-id": event_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": self._signer.sign(event_id, now, body)}
        try:
            response = self._http.post(self._url, data=body.encode(), headers=headers,
                                       timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            log.info("app event %s not delivered: %s", event_id, type(exc).__name__)
            return 0
        response.close()
        return response.status_code


def post_event(kind: str, record: dict[str, Any], fail_reason: str | None) -> dict[str, Any]:
    """`data` of a post event: the post record (plus a hint for post.failed)."""
    data = dict(record)
    if kind == "post.failed":
        data["hint"] = HINTS.get(fail_reason or "", "See fail_reason (TikTok's own words).")
    return data
