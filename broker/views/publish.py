"""A post after it started: the upload of its bytes, its status, and cancelling a pull."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.posting.records import PUBLISH_ID
from broker.posting.uploads import VIDEO_TYPES, content_type_of
from broker.schemas import PublishStatus
from broker.services import services
from broker.web.caller import current_principal
from broker.web.contract import BEARER, TIKTOK_ERRORS, RawBody, Reply, documented, reply

bp = Blueprint("publish", __name__, url_prefix="/api")
PUBLISH_ID_PARAM = {"publish_id": {"type": "string", "pattern": PUBLISH_ID.pattern}}
STATUS = {200: Reply("The post's status; fields TikTok did not give are null.", PublishStatus)}


@bp.put("/uploads/<publish_id>")
@documented(security=BEARER, path=PUBLISH_ID_PARAM, errors=(410, 415, *TIKTOK_ERRORS),
            raw_body=RawBody(("application/octet-stream", *VIDEO_TYPES),
                             description="The video file, exactly video_size bytes, streamed."),
            responses=STATUS)
def upload(publish_id: str) -> Response:
    """Stream the video's bytes; the broker sends them to TikTok chunk by chunk.

    Only the post's creator may upload to it. The body is read from `request.stream` only
    (never `request.data`), so it is not buffered.
    """
    svc = services()
    record = svc.publisher.records.owned(publish_id, current_principal().open_id)
    held = svc.uploader.upload(record, request.stream, request.content_length,
                               content_type_of(request.mimetype))
    view = record.view()
    view.update(status="PROCESSING_UPLOAD", uploaded_bytes=held)
    return reply(PublishStatus.model_validate(view))


@bp.get("/publish/<publish_id>")
@documented(security=BEARER, path=PUBLISH_ID_PARAM, errors=TIKTOK_ERRORS, responses=STATUS)
def status(publish_id: str) -> Response:
    """The post's status, from TikTok's webhooks when they arrived, else from TikTok."""
    return reply(services().publisher.status(current_principal().open_id, publish_id))


@bp.post("/publish/<publish_id>/cancel")
@documented(security=BEARER, path=PUBLISH_ID_PARAM, errors=TIKTOK_ERRORS, responses=STATUS)
def cancel(publish_id: str) -> Response:
    """Cancel a pull from URL that TikTok is still downloading."""
    return reply(services().publisher.cancel(current_principal().open_id, publish_id))
