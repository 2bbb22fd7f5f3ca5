"""Applying TikTok's webhook events: verified (broker.tiktok.webhook_signature), deduplicated,
then applied to the publish records or, for `authorization.removed`, to the user's grant.

Delivery is at least once, so each body is processed once: `tb:webhook:<sha256(body)>` is set
with NX before the event is applied and kept longer than TikTok retries (72 h).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import redis

from broker.clock import Clock
from broker.errors import BadRequest
from broker.grants import GrantStore
from broker.posting.records import PUBLISH_ID, PublishStore
from broker.storage.keyspace import redis_key
from broker.tiktok.webhook_signature import (
    PUBLISH_EVENTS,
    SignatureInvalid,
    event_label,
    parse,
    verify,
)

log = logging.getLogger(__name__)

DEDUPE_TTL = 73 * 3600  # §6: TikTok retries for up to 72 hours
CLOCK_SLACK = 2.0  # seconds: create_time is whole seconds, and clocks differ a little


class WebhookReceiver:
    """Verifies, dedupes and applies deliveries; built once per app."""

    def __init__(self, *, client_key: str, client_secret: str, tolerance: int,
                 redis_client: redis.Redis, clock: Clock, records: PublishStore,
                 grants: GrantStore, forget_user: Callable[[str], None],
                 end_sessions_before: Callable[[str, float], None],
                 on_delivery: Callable[[str, str], None] = lambda event, result: None,
                 on_publish: Callable[[str, dict[str, Any]], object] = lambda p, c: None,
                 on_removed: Callable[[str, Any], object] = lambda o, r: None) -> None:
        self._client_key, self._client_secret = client_key, client_secret
        self._tolerance, self._redis, self._clock = tolerance, redis_client, clock
        self._records, self._grants, self._forget_user = records, grants, forget_user
        self._end_sessions_before = end_sessions_before
        self._on_delivery = on_delivery  # (event, result), counted by broker.web.metrics
        self._on_publish = on_publish  # (publish_id, change): scheduled posts (broker.jobs)
        self._on_removed = on_removed  # (open_id, reason): the app's backend is told

    def receive(self, signature: str, body: bytes) -> str:
        """Handle one delivery; returns "processed", "duplicate" or "ignored" (and counts it)."""
        try:
            result = self._receive(signature, body)
        except SignatureInvalid:
            self._on_delivery("unknown", "bad_signature")  # an unsigned body names nothing trusted
            raise
        except BadRequest as exc:
            self._on_delivery(event_label(body), "stale" if exc.code == "webhook_expired"
                          else "malformed")
            raise
        self._on_delivery(event_label(body), result)
        return result

    def _receive(self, signature: str, body: bytes) -> str:
        fresh = verify(signature, body, self._client_secret, self._clock.now(), self._tolerance)
        seen = redis_key("webhook", hashlib.sha256(body).hexdigest())
        if not fresh:
            if self._redis.exists(seen):
                return "duplicate"  # §6: a late retry of a delivery already applied
            raise BadRequest("The webhook's timestamp is outside the accepted window.",
                             code="webhook_expired")
        event = parse(body)
        if not self._redis.set(seen, "1", nx=True, ex=DEDUPE_TTL):
            return "duplicate"
        try:
            return self._apply(event)
        except Exception:
            self._redis.delete(seen)  # not applied: let TikTok's retry try again
            raise

    def _apply(self, event: dict[str, Any]) -> str:
        name, content = event["event"], event["content"]
        open_id = event.get("user_openid")
        if event.get("client_key") not in (None, self._client_key):
            log.warning("webhook for another client_key ignored")
            return "ignored"
        if name == "authorization.removed" and isinstance(open_id, str) and open_id:
            removed = _seconds(event.get("create_time"))
            grant = self._grants.load(open_id)
            if removed is not None and grant is not None \
                    and grant.issued_at > removed + CLOCK_SLACK:
                # The user logged in again before this event arrived (§6: retried for 72 h):
                # the new grant stays, but the sessions the removal meant to cut off still end.
                self._end_sessions_before(open_id, removed + CLOCK_SLACK)
                log.info("authorization removed before the user's current grant: older "
                         "sessions ended, the grant kept")
                return "processed"
            # §6: the token is already revoked; end every session and forget the grant.
            self._forget_user(open_id)
            self._on_removed(open_id, content.get("reason"))
            log.info("authorization removed by TikTok (reason %s)", content.get("reason"))
            return "processed"
        publish_id = content.get("publish_id")
        if name not in PUBLISH_EVENTS or not isinstance(publish_id, str) \
                or not PUBLISH_ID.match(publish_id) or not isinstance(open_id, str):
            return "ignored"
        change: dict[str, Any] = dict(PUBLISH_EVENTS[name])
        post_id = content.get("post_id")
        if post_id is not None:
            change["drop_post_id" if "no_longer" in name else "add_post_id"] = str(post_id)
        if name == "post.publish.failed":
            change["fail_reason"] = str(content.get("reason") or "")
        self._records.apply_event(publish_id, open_id, change)
        self._on_publish(publish_id, change)
        return "processed"


def _seconds(create_time: Any) -> float | None:
    """An event's `create_time` in epoch seconds (§6 [OBS]: sometimes milliseconds), or None."""
    if not isinstance(create_time, int | float) or isinstance(create_time, bool):
        return None
    return create_time / 1000 if create_time > 10_000_000_000 else float(create_time)
