"""Posting to TikTok through the broker: creator info, video and photo posts (bearer JWT)."""

from __future__ import annotations

from flask import Blueprint, Response

from broker.bearer import current_principal
from broker.contract import (
    BEARER,
    TIKTOK_ERRORS,
    Reply,
    body_of,
    documented,
    from_tiktok,
    reply,
)
from broker.errors import BrokerError
from broker.posting import DIRECT_SCOPE
from broker.publisher import Publisher
from broker.schemas import CreatorInfo, PhotoRequest, PostStarted, VideoRequest
from broker.services import services

bp = Blueprint("content", __name__, url_prefix="/api")


@bp.get("/creator-info")
@documented("TikTok's creator info plus the app's own limits; needed before a direct post.",
            security=BEARER, errors=TIKTOK_ERRORS,
            responses={200: Reply("The creator info.", CreatorInfo)})
def creator_info() -> Response:
    """TikTok's creator info plus the app's own limits, so the SPA can explain its choices."""
    principal = current_principal()
    if DIRECT_SCOPE not in principal.scopes:
        raise BrokerError("Creator info needs the video.publish permission, which this login "
                          "did not grant.", code="scope_not_granted", status=403)
    publisher = Publisher(services())
    info = publisher.creator_info(principal.open_id)
    return reply(from_tiktok(CreatorInfo, {
        **info, "app_audited": publisher.settings.audited,
        "allowed_privacy_level_options": publisher.allowed_privacy(info)}))


@bp.post("/videos")
@documented("Start a video post (direct or draft), pulled from a URL or uploaded next.",
            security=BEARER, body=VideoRequest, errors=TIKTOK_ERRORS,
            responses={201: Reply("Started; PUT the bytes to upload_url when it is given.",
                                  PostStarted)})
def start_video() -> Response:
    """Start a direct post or a draft of a video, pulled from a URL or uploaded next."""
    started = Publisher(services()).start_video(current_principal(), body_of(VideoRequest))
    return reply(started, 201)


@bp.post("/photos")
@documented("Start a photo post (direct or draft) pulled from URLs.", security=BEARER,
            body=PhotoRequest, errors=TIKTOK_ERRORS,
            responses={201: Reply("Started.", PostStarted)})
def start_photo() -> Response:
    """Start a direct post or a draft of photos pulled from URLs."""
    return reply(Publisher(services()).start_photo(current_principal(), body_of(PhotoRequest)),
                 201)
