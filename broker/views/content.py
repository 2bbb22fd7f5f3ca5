"""Posting to TikTok through the broker: creator info, video and photo posts (bearer JWT)."""

from __future__ import annotations

from flask import Blueprint, Response

from broker.errors import Forbidden
from broker.jobs.schemas import PostRecord
from broker.posting.rules import DIRECT_SCOPE
from broker.schemas import CreatorInfo, PhotoRequest, PostStarted, VideoRequest
from broker.services import services
from broker.web.caller import current_principal
from broker.web.contract import (
    BEARER,
    TIKTOK_ERRORS,
    Reply,
    body_of,
    documented,
    from_tiktok,
    reply,
)
from broker.web.idempotency import DOC, HEADER, idempotent, note_started, reserved_id

bp = Blueprint("content", __name__, url_prefix="/api")


@bp.get("/creator-info")
@documented(security=BEARER, errors=TIKTOK_ERRORS,
            responses={200: Reply("The creator info.", CreatorInfo)})
def creator_info() -> Response:
    """TikTok's creator info plus the app's own limits; needed before a direct post.

    The app's limits (`app_audited`, the privacy levels it may use) let the SPA explain its
    choices.
    """
    principal = current_principal()
    if DIRECT_SCOPE not in principal.scopes:
        raise Forbidden("Creator info needs the video.publish permission, which this login "
                        "did not grant.", code="scope_not_granted")
    publisher = services().publisher
    info = publisher.creator_info(principal.open_id)
    return reply(from_tiktok(CreatorInfo, {
        **info, "app_audited": publisher.policy.audited,
        "allowed_privacy_level_options": publisher.allowed_privacy(info)}))


@bp.post("/videos")
@documented(security=BEARER, body=VideoRequest, errors=(*TIKTOK_ERRORS, 409, 422),
            headers={HEADER: DOC},
            responses={201: Reply("Started; PUT the bytes to upload_url when it is given.",
                                  PostStarted),
                       202: Reply("source_url: accepted; the worker uploads it.", PostRecord)})
@idempotent
def start_video() -> Response:
    """Start a video post (direct or draft): pulled from a URL, uploaded next, or fetched by the
    broker from the app's storage (`source_url`, run by the worker)."""
    body, svc = body_of(VideoRequest), services()
    if body.source_url is not None:
        post = svc.posts.from_video(current_principal(), body, reserved_id())
        return reply(PostRecord.model_validate(post.view()), 202)
    return reply(svc.publisher.start_video(current_principal(), body,
                                           on_started=lambda a: note_started(a, 201)), 201)


@bp.post("/photos")
@documented(security=BEARER, body=PhotoRequest, errors=(*TIKTOK_ERRORS, 409, 422),
            headers={HEADER: DOC}, responses={201: Reply("Started.", PostStarted)})
@idempotent
def start_photo() -> Response:
    """Start a photo post (direct or draft) pulled from URLs."""
    return reply(services().publisher.start_photo(current_principal(), body_of(PhotoRequest),
                                                  on_started=lambda a: note_started(a, 201)),
                 201)
