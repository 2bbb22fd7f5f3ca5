"""`POST /webhooks/tiktok`: TikTok's event deliveries, answered 200 as soon as they are applied."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.errors import PayloadTooLarge
from broker.schemas import WebhookAck, WebhookEvent
from broker.services import services
from broker.web.contract import RawBody, Reply, documented, reply

bp = Blueprint("webhooks", __name__)
MAX_BODY = 64 * 1024  # TikTok's envelopes are a few hundred bytes


@bp.post("/webhooks/tiktok")
@documented(tag="webhooks",
            headers={"TikTok-Signature": "t=<unix time>,s=<hex HMAC-SHA256 of \"t.body\">"},
            raw_body=RawBody(("application/json",), WebhookEvent, "TikTok's envelope, as sent."),
            errors=(400, 413, 503), responses={200: Reply("Applied, a duplicate, or ignored.",
                                                          WebhookAck)})
def tiktok_webhook() -> Response:
    """TikTok's event deliveries, signed over the raw body.

    The signature is verified over the raw body, the event applied once, and 200 answered.
    """
    if (request.content_length or 0) > MAX_BODY:
        raise PayloadTooLarge("The webhook body is too large.")
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise PayloadTooLarge("The webhook body is too large.")
    # Header names are case-insensitive here; §6's sample spells it "Tiktok-Signature".
    outcome = services().webhooks.receive(request.headers.get("TikTok-Signature", ""), body)
    return reply(WebhookAck.model_validate({"status": outcome}), private=False)
