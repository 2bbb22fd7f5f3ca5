"""Streaming an upload from the SPA to TikTok, one chunk at a time (tiktok-api.md §5.6).

The incoming body is read in 1 MiB pieces into a single buffer the size of the largest chunk;
each full chunk goes to TikTok straight from that buffer, in order, with its Content-Range. A
chunk is re-sent after a 5xx or a dropped connection; after a 416 the upload continues from the
byte count TikTok reports. Progress is recorded after every chunk, so a repeated PUT of the same
file resumes where TikTok stands instead of starting over.
"""

from __future__ import annotations

import contextlib
import mmap
import time
from collections.abc import Callable
from typing import IO

import redis
from werkzeug.exceptions import ClientDisconnected

from broker.errors import (
    BadRequest,
    BrokerError,
    Conflict,
    RateLimited,
    UnsupportedMediaType,
    UpstreamError,
)
from broker.posting.records import PublishRecord, PublishStore
from broker.posting.rules import ChunkPlan
from broker.storage.keyspace import redis_key
from broker.tiktok.content_posting import ContentPosting

PIECE = 1024 * 1024  # bytes read from the client at a time
ATTEMPTS = 4  # sends of one chunk before giving up
BACKOFF = 0.5  # seconds, doubled after each failed send
LOCK_LEASE = 300  # seconds; renewed after every chunk
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")  # §5.6


class UploadFailed(BrokerError):
    """The upload stopped; `uploaded_bytes` says how far TikTok got (a new PUT resumes)."""

    status, code = 502, "upload_failed"


class UploadUrlExpired(UploadFailed):
    """TikTok's upload_url lives one hour (§5.2) and then answers 403 (§5.6)."""

    status, code = 410, "upload_url_expired"
    description = "TikTok's upload URL expired (it lives one hour); start a new post."


class UploadOutOfSync(UploadFailed):
    """TikTok holds less of the video than this upload assumed."""

    status, code = 409, "upload_out_of_sync"
    description = "TikTok's upload is behind this one; PUT the file again to resume."


def content_type_of(mimetype: str) -> str:
    """The Content-Type to send TikTok: the client's video type, else MP4."""
    if mimetype in VIDEO_TYPES:
        return mimetype
    if mimetype in ("", "application/octet-stream"):
        return "video/mp4"
    raise UnsupportedMediaType("Upload an MP4, QuickTime or WebM video (Content-Type video/mp4, "
                               "video/quicktime or video/webm).")


class Uploader:
    """Moves one PUT body to TikTok under a per-post lock (`tb:upload-lock:<publish_id>`)."""

    def __init__(self, tiktok: ContentPosting, records: PublishStore, redis_client: redis.Redis,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._tiktok, self._records, self._redis, self._sleep = tiktok, records, redis_client, sleep

    def upload(self, record: PublishRecord, stream: IO[bytes], length: int | None,
               content_type: str) -> int:
        """Send the body's chunks; returns the bytes TikTok holds (the whole video)."""
        plan, url = record.plan, record.upload_url
        if plan is None:
            raise Conflict("This post takes no upload (TikTok pulls it from a URL).",
                           code="upload_not_expected")
        if url is None:
            raise UploadUrlExpired("TikTok's upload URL for this post can no longer be used; "
                                   "start a new post.")
        if length is not None and length != plan.video_size:
            raise BadRequest(f"The body has {length} bytes; the post declared video_size "
                             f"{plan.video_size}.", code="upload_size_mismatch")
        start = record.uploaded_bytes or 0
        if start >= plan.video_size:
            raise Conflict("This video is already uploaded.", code="upload_already_complete")
        lock = redis_key("upload-lock", record.publish_id)
        if not self._redis.set(lock, "1", nx=True, ex=LOCK_LEASE):
            raise Conflict("Another upload to this post is in progress.",
                           code="upload_in_progress")
        try:
            return self._run(record.publish_id, plan, url, stream, content_type, lock,
                             start if plan.is_boundary(start) else 0)
        except ClientDisconnected as exc:
            raise BadRequest("The upload ended before video_size bytes arrived; PUT the file "
                             "again to resume.", code="upload_incomplete") from exc
        finally:
            self._redis.delete(lock)

    def _run(self, publish_id: str, plan: ChunkPlan, url: str, stream: IO[bytes],
             content_type: str, lock: str, position: int) -> int:
        # The one chunk held in memory: an anonymous mapping, handed back to the OS when the
        # upload ends (a freed bytearray of this size may stay in the allocator's arenas).
        mapping = mmap.mmap(-1, plan.largest)
        buffer = memoryview(mapping)
        try:
            return self._chunks(publish_id, plan, url, stream, content_type, lock, position,
                                buffer)
        finally:
            buffer.release()
            with contextlib.suppress(BufferError):  # a view still alive: unmapped when freed
                mapping.close()

    def _chunks(self, publish_id: str, plan: ChunkPlan, url: str, stream: IO[bytes],
                content_type: str, lock: str, position: int, buffer: memoryview) -> int:
        _skip(stream, position)  # a resumed upload: TikTok already holds these bytes
        while position < plan.video_size:
            first, length = plan.bounds(position // plan.chunk_size)
            chunk = buffer[:length]
            if _fill(stream, chunk) < length:
                raise BadRequest("The upload ended before video_size bytes arrived; PUT the "
                                 "file again to resume.", code="upload_incomplete")
            if first + length == plan.video_size and _read(stream, 1):
                raise BadRequest(f"The body is longer than video_size ({plan.video_size}).",
                                 code="upload_size_mismatch")
            held = self._send(url, chunk, first, plan, content_type, publish_id)
            chunk.release()
            self._records.set_uploaded(publish_id, held, done=held >= plan.video_size)
            self._redis.expire(lock, LOCK_LEASE)
            _skip(stream, held - first - length)  # TikTok already had more than this chunk
            position = held
        return position

    def _send(self, url: str, chunk: memoryview, first: int, plan: ChunkPlan,
              content_type: str, publish_id: str) -> int:
        """Send one chunk until TikTok takes it; returns the bytes TikTok then holds."""
        end, failures = first + chunk.nbytes, 0
        while True:
            answer = self._tiktok.put_chunk(url, chunk, first, plan.video_size, content_type)
            if answer.status in (200, 201, 206):  # §5.6: 206 more expected, 201 complete
                return end
            if answer.status == 416:  # §5.6: range out of step; TikTok says what it holds
                held = _held(answer.range_end, plan)
                if held is not None and held >= end:
                    return held
                if held is None or held < first:
                    self._records.set_uploaded(publish_id, held or 0)
                    raise UploadOutOfSync()
            elif answer.status == 403:  # §5.6: the upload_url expired (valid 1 h, §5.2)
                raise UploadUrlExpired()
            elif answer.status == 429:
                raise RateLimited("TikTok is rate-limiting uploads; try again shortly.",
                                  code="tiktok_rate_limited", headers={"Retry-After": "60"})
            elif answer.status and answer.status < 500:
                raise UpstreamError(f"TikTok refused the upload (HTTP {answer.status}).",
                                    code="tiktok_upload_refused")
            failures += 1  # 5xx, dropped connection, or 416 at this very chunk: send it again
            if failures >= ATTEMPTS:
                self._records.set_uploaded(publish_id, first)
                raise UploadFailed("TikTok kept failing to take the upload; PUT the file "
                                   "again to resume.", code="tiktok_upload_failed")
            self._sleep(BACKOFF * 2 ** (failures - 1))


def _held(range_end: int | None, plan: ChunkPlan) -> int | None:
    """Bytes TikTok holds from `Content-Range: bytes 0-N/T`: N may be the last byte or a count.

    §5.6 [UNCONFIRMED]: only a chunk boundary is possible, which tells the two readings apart.
    """
    if range_end is None:
        return 0
    for held in (range_end + 1, range_end):  # HTTP's inclusive last byte first
        if plan.is_boundary(held):
            return held
    return None


def _fill(stream: IO[bytes], view: memoryview) -> int:
    """Read into `view` in small pieces until it is full or the body ends."""
    filled = 0
    while filled < view.nbytes:
        piece = _read(stream, min(PIECE, view.nbytes - filled))
        if not piece:
            break
        view[filled:filled + len(piece)] = piece
        filled += len(piece)
    return filled


def _skip(stream: IO[bytes], count: int) -> None:
    """Read and drop `count` bytes of the body."""
    while count > 0:
        piece = _read(stream, min(PIECE, count))
        if not piece:
            raise BadRequest("The upload ended early.", code="upload_incomplete")
        count -= len(piece)


def _read(stream: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes of the body; a client silent past the server's read timeout (or gone)
    ends the upload as incomplete, and a new PUT resumes it."""
    try:
        return stream.read(size)
    except OSError as exc:  # broker.web.server's idle timeout, or a reset connection
        raise BadRequest("The upload stalled or the connection was lost; PUT the file again to "
                         "resume.", code="upload_incomplete") from exc
