"""A post after it started: the upload of its bytes, its status, and cancelling a pull."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.bearer import current_principal, require_bearer
from broker.publisher import Publisher
from broker.services import services
from broker.uploads import Uploader, content_type_of
from broker.views.content import private

bp = Blueprint("publish", __name__, url_prefix="/api")


@bp.put("/uploads/<publish_id>")
@require_bearer
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
    return private(view)


@bp.get("/publish/<publish_id>")
@require_bearer
def status(publish_id: str) -> Response:
    """The post's status, from webhooks when they arrived, else from TikTok."""
    return private(Publisher(services()).status(current_principal().open_id, publish_id))


@bp.post("/publish/<publish_id>/cancel")
@require_bearer
def cancel(publish_id: str) -> Response:
    """Cancel a pull from URL that TikTok is still downloading."""
    return private(Publisher(services()).cancel(current_principal().open_id, publish_id))
