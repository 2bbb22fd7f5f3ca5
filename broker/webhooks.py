"""TikTok's webhooks (tiktok-api.md §6): verify the signature, drop duplicates, apply the event.

A delivery is trusted only when `TikTok-Signature: t=<ts>,s=<hex>` matches HMAC-SHA256 of
`f"{t}.{raw body}"` under the client secret (compared in constant time) and `t` is recent.
Delivery is at least once, so each body is processed once: `tb:webhook:<sha256(body)>` is set
with NX before the event is applied and kept longer than TikTok retries (72 h).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from broker.errors import BadRequest, BrokerError
from broker.metrics import count_webhook
from broker.publishing import PUBLISH_ID, PublishStore
from broker.services import Services
from broker.store import key

log = logging.getLogger(__name__)

DEDUPE_TTL = 73 * 3600  # §6: TikTok retries for up to 72 hours
CLOCK_SLACK = 2.0  # seconds: create_time is whole seconds, and clocks differ a little
PUBLISH_EVENTS: dict[str, dict[str, str]] = {
    "post.publish.failed": {"status": "FAILED"},
    "post.publish.complete": {"status": "PUBLISH_COMPLETE"},
    "post.publish.inbox_delivered": {"status": "SEND_TO_USER_INBOX"},
    "post.publish.publicly_available": {"status": "PUBLISH_COMPLETE"},
    # §6: the documented name is misspelled; accept the correct spelling as well.
    "post.publish.no_longer_publicaly_available": {},
    "post.publish.no_longer_publicly_available": {},
}


class SignatureInvalid(BrokerError):
    status, code = 400, "webhook_signature_invalid"
    description = "The TikTok-Signature header does not match the body."


def verify(header: str, body: bytes, secret: str, now: float, tolerance: int) -> bool:
    """Check the signature; True when `t` is within `tolerance` seconds of now.

    Raises SignatureInvalid for a missing, malformed or wrong signature. A correct one with an
    old timestamp returns False: the caller accepts it only as a duplicate it already processed.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):  # §6: split on "," then on "="
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name.strip(), []).append(value.strip())
    stamps, signatures = parts.get("t", []), parts.get("s", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise SignatureInvalid("The TikTok-Signature header is missing or malformed.")
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body,
                        hashlib.sha256).hexdigest()  # §6 [OBS]: lowercase hex
    if not any(hmac.compare_digest(expected, s.lower()) for s in signatures):
        raise SignatureInvalid()
    stamp = int(stamps[0])
    if stamp > 10_000_000_000:  # §6 [OBS]: a test delivery used milliseconds
        stamp //= 1000
    return abs(now - stamp) <= tolerance


def parse(body: bytes) -> dict[str, Any]:
    """The envelope with `content` parsed a second time (§6: it is a JSON string)."""
    try:
        envelope = json.loads(body)
        content = envelope.get("content") if isinstance(envelope, dict) else None
        if isinstance(content, str):
            content = json.loads(content) if content.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # any unreadable body
        raise BadRequest("The webhook body is not TikTok's JSON envelope.",
                         code="webhook_malformed") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise BadRequest("The webhook body names no event.", code="webhook_malformed")
    envelope["content"] = content if isinstance(content, dict) else {}
    return envelope


def event_label(body: bytes) -> str:
    """The event's name for metrics: a known name, "other", or "unknown" when unreadable."""
    try:
        name = parse(body)["event"]
    except BadRequest:
        return "unknown"
    return name if name in PUBLISH_EVENTS or name == "authorization.removed" else "other"


class WebhookReceiver:
    """Verifies, dedupes and applies deliveries for the app's services."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.records = PublishStore(svc.redis, svc.vault, svc.clock)

    def receive(self, signature: str, body: bytes) -> str:
        """Handle one delivery; returns "processed", "duplicate" or "ignored" (and counts it)."""
        try:
            result = self._receive(signature, body)
        except SignatureInvalid:
            count_webhook("unknown", "bad_signature")  # an unsigned body names nothing trusted
            raise
        except BadRequest as exc:
            count_webhook(event_label(body), "stale" if exc.code == "webhook_expired"
                          else "malformed")
            raise
        count_webhook(event_label(body), result)
        return result

    def _receive(self, signature: str, body: bytes) -> str:
        settings = self.svc.settings
        fresh = verify(signature, body, settings.client_secret, self.svc.clock.now(),
                       settings.webhook_tolerance)
        seen = key("webhook", hashlib.sha256(body).hexdigest())
        if not fresh:
            if self.svc.redis.exists(seen):
                return "duplicate"  # §6: a late retry of a delivery already applied
            raise BadRequest("The webhook's timestamp is outside the accepted window.",
                             code="webhook_expired")
        event = parse(body)
        if not self.svc.redis.set(seen, "1", nx=True, ex=DEDUPE_TTL):
            return "duplicate"
        try:
            return self._apply(event)
        except Exception:
            self.svc.redis.delete(seen)  # not applied: let TikTok's retry try again
            raise

    def _apply(self, event: dict[str, Any]) -> str:
        name, content = event["event"], event["content"]
        open_id = event.get("user_openid")
        if event.get("client_key") not in (None, self.svc.settings.client_key):
            log.warning("webhook for another client_key ignored")
            return "ignored"
        if name == "authorization.removed" and isinstance(open_id, str) and open_id:
            if self._granted_since(open_id, event.get("create_time")):
                log.info("authorization.removed older than the user's current grant ignored")
                return "ignored"  # a late retry (§6: up to 72 h); the user logged in again
            # §6: the token is already revoked; end every session and forget the grant.
            self.svc.forget_user(open_id)
            self.svc.redis.delete(key("creator", open_id))
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
        self.records.apply_event(publish_id, open_id, change)
        return "processed"

    def _granted_since(self, open_id: str, create_time: Any) -> bool:
        """Whether the user's stored grant was issued after the event was created."""
        if not isinstance(create_time, int | float) or isinstance(create_time, bool):
            return False
        created = create_time / 1000 if create_time > 10_000_000_000 else create_time  # §6 [OBS]
        grant = self.svc.grants.store.load(open_id)
        return grant is not None and grant.issued_at > created + CLOCK_SLACK
