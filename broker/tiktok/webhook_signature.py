"""TikTok's webhooks on the wire (tiktok-api.md §6): the signature, the envelope, event names.

A delivery is trusted only when `TikTok-Signature: t=<ts>,s=<hex>` matches HMAC-SHA256 of
`f"{t}.{raw body}"` under the client secret (compared in constant time) and `t` is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from broker.errors import BadRequest, BrokerError

PUBLISH_EVENTS: dict[str, dict[str, str]] = {
    "post.publish.failed": {"status": "FAILED"},
    "post.publish.complete": {"status": "PUBLISH_COMPLETE"},
    "post.publish.inbox_delivered": {"status": "SEND_TO_USER_INBOX"},
    "post.publish.publicly_available": {"status": "PUBLISH_COMPLETE"},
    # §6: the documented name is misspelled; accept the correct spelling as well.
    "post.publish.no_longer_publicaly_available": {},
    "post.publish.no_longer_publicly_available": {},
}


STAMP = re.compile(r"[0-9]{1,13}")  # unix seconds, or milliseconds (§6 [OBS])
HEX_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")


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
    stamps = parts.get("t", [])
    # Only ASCII digits and 64 hex digits are compared: anything else (a non-ASCII `s=` once
    # made the comparison throw) is not a signature, and a header with none is malformed.
    signatures = [s for s in parts.get("s", []) if HEX_SHA256.fullmatch(s)]
    if len(stamps) != 1 or not STAMP.fullmatch(stamps[0]) or not signatures:
        raise SignatureInvalid("The TikTok-Signature header is missing or malformed.")
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body,
                        hashlib.sha256).hexdigest().encode()  # §6 [OBS]: lowercase hex
    if not any(hmac.compare_digest(expected, s.lower().encode()) for s in signatures):
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
