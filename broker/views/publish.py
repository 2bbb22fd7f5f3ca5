"""A post after it started: the upload of its bytes, its status, and cancelling a pull."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.bearer import current_principal
from broker.contract import BEARER, TIKTOK_ERRORS, RawBody, Reply, documented, reply
from broker.publisher import Publisher
from broker.publishing import PUBLISH_ID
from broker.schemas import PublishStatus
from broker.services import services
from broker.uploads import VIDEO_TYPES, Uploader, content_type_of

bp = Blueprint("publish", __name__, url_prefix="/api")
PUBLISH_ID_PARAM = {"publish_id": {"type": "string", "pattern": PUBLISH_ID.pattern}}
STATUS = {200: Reply("The post's status; fields TikTok did not give are null.", PublishStatus)}


@bp.put("/uploads/<publish_id>")
@documented("Stream the video's bytes; the broker sends them to TikTok chunk by chunk.",
            security=BEARER, path=PUBLISH_ID_PARAM, errors=(410, 415, *TIKTOK_ERRORS),
            raw_body=RawBody(("application/octet-stream", *VIDEO_TYPES),
                             description="The video file, exactly video_size bytes, streamed."),
            responses=STATUS)
def upload(publish_id: str) -> Response:
    """Stream the video to TikTok in chunks; only the post's creator may upload to it.

    The body is read from `request.stream` only (never `request.data`), so it is not buffered.
    """
    principal = current_principal()
    publisher = Publisher(services())
    record = publisher.records.owned(publish_id, principal.open_id)
    content_type = content_type_of(request.mimetype)
    uploader = Uploader(publisher.tiktok, publisher.records, services().redis)
    held = uploader.upload(record, request.stream, request.content_length, content_type)
    view = record.view()
    view.update(status="PROCESSING_UPLOAD", uploaded_bytes=held)
    return reply(PublishStatus.model_validate(view))


@bp.get("/publish/<publish_id>")
@documented("The post's status, from TikTok's webhooks when they arrived, else from TikTok.",
            security=BEARER, path=PUBLISH_ID_PARAM, errors=TIKTOK_ERRORS, responses=STATUS)
def status(publish_id: str) -> Response:
    """The post's status, from webhooks when they arrived, else from TikTok."""
    return reply(Publisher(services()).status(current_principal().open_id, publish_id))


@bp.post("/publish/<publish_id>/cancel")
@documented("Cancel a pull from URL that TikTok is still downloading.", security=BEARER,
            path=PUBLISH_ID_PARAM, errors=TIKTOK_ERRORS, responses=STATUS)
def cancel(publish_id: str) -> Response:
    """Cancel a pull from URL that TikTok is still downloading."""
    return reply(Publisher(services()).cancel(current_principal().open_id, publish_id))
