"""The user's videos through TikTok's Display API (blueprint "videos"; `video.list` scope)."""

from __future__ import annotations

from flask import Blueprint, Response

from broker.services import services
from broker.videos.library import fields_for
from broker.videos.schemas import VideoList, VideoPage, VideoQueryRequest, VideosQuery
from broker.web.caller import current_principal
from broker.web.contract import (
    BEARER,
    TIKTOK_ERRORS,
    Reply,
    body_of,
    documented,
    from_tiktok,
    query_of,
    reply,
)

bp = Blueprint("videos", __name__, url_prefix="/api")


@bp.get("/videos")
@documented(security=BEARER, query=VideosQuery, errors=(403, *TIKTOK_ERRORS),
            responses={200: Reply("A page of videos, newest first.", VideoPage)})
def list_videos() -> Response:
    """The account's public videos, newest first, a page at a time (briefly cached)."""
    principal, query = current_principal(), query_of(VideosQuery)
    fields = fields_for(principal.scopes, query.fields)
    page = services().videos.page(principal.open_id, fields, query.cursor, query.max_count)
    return reply(from_tiktok(VideoPage, page))


@bp.post("/videos/query")
@documented(security=BEARER, body=VideoQueryRequest, errors=(403, *TIKTOK_ERRORS),
            responses={200: Reply("Those of the ids that are the account's videos.", VideoList)})
def query_videos() -> Response:
    """Up to 20 of the account's videos by id (briefly cached)."""
    principal, body = current_principal(), body_of(VideoQueryRequest)
    fields = fields_for(principal.scopes, body.fields)
    return reply(from_tiktok(VideoList, services().videos.query(principal.open_id, fields,
                                                                body.video_ids)))
