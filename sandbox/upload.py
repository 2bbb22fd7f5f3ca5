"""The chunked upload target (§5.6): sequential PUTs, streamed and counted, never buffered."""

from __future__ import annotations

import re
import time

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import ClientDisconnected

from .posts import Task

bp = Blueprint("upload", __name__)

CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")  # §5.6
PIECE = 1024 * 1024


def _drain(limit: int) -> int:
    """Read and discard up to ``limit`` body bytes so the client sees our answer; count them."""
    stream = request.stream
    total = 0
    while total < limit:
        try:
            piece = stream.read(min(PIECE, limit - total))
        except (ClientDisconnected, OSError):  # the client died mid-chunk: a short body
            break
        if not piece:
            break
        total += len(piece)
    return total


def _answer(status: int, message: str, task: Task | None = None) -> Response:
    resp = Response(message, status=status, mimetype="text/plain")
    if task is not None and task.upload is not None and task.upload.received:
        up = task.upload
        # §5.6 [UNCONFIRMED]: inclusive last-byte index (HTTP's convention) or a byte count.
        last = up.received - 1 if current_app.extensions["sandbox"].config.upload_range == \
            "inclusive" else up.received
        resp.headers["Content-Range"] = f"bytes 0-{last}/{up.video_size}"
    return resp


@bp.put("/upload/")
def put_chunk() -> Response:
    """Accept one chunk: 206 while more are expected, 201 when complete, 416 out of order."""
    svc = current_app.extensions["sandbox"]
    length_header = request.headers.get("Content-Length", "")
    length = int(length_header) if length_header.isdigit() else -1
    task = svc.posts.uploads.get(request.args.get("upload_id", ""))
    up = task.upload if task else None
    if task is None or up is None or request.args.get("upload_token") != up.token:
        _drain(max(length, 0))
        return _answer(404, "No such upload task.")
    g.open_id = task.open_id
    match = CONTENT_RANGE.match(request.headers.get("Content-Range", ""))
    record = {"content_range": request.headers.get("Content-Range"), "content_length": length,
              "bytes": 0, "status": 0, "accepted": False, "time": time.time()}
    with svc.posts.lock:
        if svc.clock.now() >= up.expires_at:
            status, message = 403, "The upload URL has expired."  # §5.6: valid for 1 hour
        elif match is None or length < 0 or \
                request.mimetype not in VIDEO_TYPES or \
                int(match[2]) - int(match[1]) + 1 != length:
            status, message = 400, "Bad Content-Type, Content-Range or Content-Length."
        else:
            first, expect_len = up.expected()
            done = up.received >= up.video_size
            if done or up.busy or int(match[1]) != first or length != expect_len \
                    or int(match[3]) != up.video_size:
                # §5.6: 416 when Content-Range does not match the upload's progress.
                status, message = 416, f"Expected bytes {first}-{first + expect_len - 1}."
            else:
                status, message, up.busy = 0, "", True
        if status:
            record["status"] = status
            up.chunks.append(record)
    if status:
        record["bytes"] = _drain(max(length, 0))
        return _answer(status, message, task)
    got = _drain(length)
    with svc.posts.lock:
        up.busy = False
        record["bytes"] = got
        up.chunks.append(record)
        if got < length:
            record["status"] = 400
            return _answer(400, "Body shorter than Content-Length.", task)
        record["accepted"] = True
        up.received += got
        if up.received < up.video_size:
            record["status"] = 206  # §5.6: chunk accepted, more expected
            return _answer(206, "", task)
        record["status"] = 201  # §5.6: all parts received; posting starts
        task.started_at = svc.clock.now()
        return _answer(201, "", task)
