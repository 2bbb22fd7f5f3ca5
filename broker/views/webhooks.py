"""`POST /webhooks/tiktok`: TikTok's event deliveries, answered 200 as soon as they are applied."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.contract import RawBody, Reply, documented, reply
from broker.errors import BrokerError
from broker.schemas import WebhookAck, WebhookEvent
from broker.services import services
from broker.webhooks import WebhookReceiver

bp = Blueprint("webhooks", __name__)
MAX_BODY = 64 * 1024  # TikTok's envelopes are a few hundred bytes


@bp.post("/webhooks/tiktok")
@documented("TikTok's event deliveries, signed over the raw body.", tag="webhooks",
            headers={"TikTok-Signature": "t=<unix time>,s=<hex HMAC-SHA256 of \"t.body\">"},
            raw_body=RawBody(("application/json",), WebhookEvent, "TikTok's envelope, as sent."),
            errors=(400, 413, 503), responses={200: Reply("Applied, a duplicate, or ignored.",
                                                          WebhookAck)})
def tiktok_webhook() -> Response:
    """Verify the signature over the raw body, apply the event once, and answer 200."""
    if (request.content_length or 0) > MAX_BODY:
        raise BrokerError("The webhook body is too large.", code="payload_too_large", status=413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise BrokerError("The webhook body is too large.", code="payload_too_large", status=413)
    # Header names are case-insensitive here; §6's sample spells it "Tiktok-Signature".
    outcome = WebhookReceiver(services()).receive(request.headers.get("TikTok-Signature", ""), body)
    return reply(WebhookAck.model_validate({"status": outcome}), private=False)
