"""Posting to TikTok through the broker: creator info, video and photo posts (bearer JWT)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from broker.bearer import current_principal, require_bearer
from broker.errors import BadRequest, BrokerError
from broker.posting import DIRECT_SCOPE
from broker.publisher import Publisher
from broker.services import services

bp = Blueprint("content", __name__, url_prefix="/api")
MAX_JSON = 64 * 1024  # posting requests are small; a larger body is refused unread


def json_body() -> dict[str, Any]:
    """The request's JSON object, refusing oversized or malformed bodies with a 4xx."""
    if (request.content_length or 0) > MAX_JSON:
        raise BrokerError("The request body is too large.", code="payload_too_large", status=413)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object (Content-Type: application/json).",
                         code="invalid_json")
    return body


def private(payload: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer that no cache keeps."""
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/creator-info")
@require_bearer
def creator_info() -> Response:
    """TikTok's creator info plus the app's own limits, so the SPA can explain its choices."""
    principal = current_principal()
    if DIRECT_SCOPE not in principal.scopes:
        raise BrokerError("Creator info needs the video.publish permission, which this login "
                          "did not grant.", code="scope_not_granted", status=403)
    publisher = Publisher(services())
    info = publisher.creator_info(principal.open_id)
    return private({**info, "app_audited": publisher.settings.audited,
                    "allowed_privacy_level_options": publisher.allowed_privacy(info)})


@bp.post("/videos")
@require_bearer
def start_video() -> Response:
    """Start a direct post or a draft of a video, pulled from a URL or uploaded next."""
    return private(Publisher(services()).start_video(current_principal(), json_body()), 201)


@bp.post("/photos")
@require_bearer
def start_photo() -> Response:
    """Start a direct post or a draft of photos pulled from URLs."""
    return private(Publisher(services()).start_photo(current_principal(), json_body()), 201)
