"""TikTok's Content Posting API (tiktok-api.md §5): creator info, inits, status, cancel, chunk PUT.

Every call but the chunk PUT goes through `TikTokClient.api`, which judges success by
`error.code` (creator info reports caps with HTTP 200, §5.1). The chunk PUT talks to the
`upload_url` TikTok returned, used whole (§5.6), and reports its outcome instead of raising, so
the uploader can retry, resume or give up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests

from broker.errors import UpstreamError
from broker.tiktok.client import TikTokClient
from broker.tiktok.errors import TikTokApiError

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
CANCEL = "/v2/post/publish/cancel/"

CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")
UPLOAD_RATE_FLOOR = 1024 * 1024  # bytes/s: the slowest TikTok upload we wait for
SINGLE_CHUNK_MAX = 64_000_000  # §5.11 [OBS]: single-chunk uploads up to this size kept working


@dataclass(frozen=True)
class Started:
    """An init's answer: the publish_id and, for FILE_UPLOAD, TikTok's secret upload_url."""

    publish_id: str
    upload_url: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Status:
    """status/fetch data (§5.5); post ids as strings (int64 does not survive JavaScript)."""

    status: str | None
    fail_reason: str | None
    post_ids: list[str] | None
    uploaded_bytes: int | None


@dataclass(frozen=True)
class ChunkAnswer:
    """What TikTok said to one chunk PUT: HTTP status (0: no answer) and Content-Range end."""

    status: int
    range_end: int | None = None


class ContentPosting:
    """The Content Posting endpoints for one user's access token at a time."""

    def __init__(self, client: TikTokClient) -> None:
        self._client = client

    def creator_info(self, access_token: str) -> dict[str, Any]:
        """The creator's nickname, privacy options and limits (§5.1; errors may come as 200)."""
        return self._client.api("POST", CREATOR_INFO, access_token, json={})

    def init_video(self, access_token: str, body: dict[str, Any]) -> Started:
        """Direct Post of a video (§5.2)."""
        return _started(self._client.api("POST", VIDEO_INIT, access_token, json=body))

    def init_inbox_video(self, access_token: str, body: dict[str, Any]) -> Started:
        """Upload a video draft to the creator's inbox (§5.3: source_info only)."""
        return _started(self._client.api("POST", INBOX_VIDEO_INIT, access_token, json=body))

    def init_content(self, access_token: str, body: dict[str, Any]) -> Started:
        """A photo post, direct or to the inbox (§5.4)."""
        return _started(self._client.api("POST", CONTENT_INIT, access_token, json=body))

    def status(self, access_token: str, publish_id: str) -> Status:
        """The post's progress (§5.5: 30 requests/min per token)."""
        data = self._client.api("POST", STATUS_FETCH, access_token,
                                json={"publish_id": publish_id})
        # §5.5: the doc spells the field "publicaly"; accept the correct spelling as well.
        ids = data.get("publicaly_available_post_id", data.get("publicly_available_post_id"))
        uploaded = data.get("uploaded_bytes")
        return Status(
            status=str(data["status"]) if data.get("status") else None,
            fail_reason=str(data["fail_reason"]) if data.get("fail_reason") else None,
            post_ids=[str(i) for i in ids] if isinstance(ids, list) else None,
            uploaded_bytes=uploaded if isinstance(uploaded, int) else None,
        )

    def cancel(self, access_token: str, publish_id: str) -> None:
        """Cancel a pull still downloading (§5.7); TikTok answers with the error object only."""
        self._client.api("POST", CANCEL, access_token, json={"publish_id": publish_id})

    def put_chunk(self, upload_url: str, chunk: memoryview, first: int, total: int,
                  content_type: str) -> ChunkAnswer:
        """PUT one chunk to the *entire* upload_url (§5.6), sent from the buffer without a copy.

        The read timeout grows with the chunk: TikTok answers only once all of it arrived.
        """
        size = chunk.nbytes
        headers = {"Content-Type": content_type, "Content-Length": str(size),
                   "Content-Range": f"bytes {first}-{first + size - 1}/{total}"}
        connect, read = self._client.timeout
        timeout = (connect, read + size / UPLOAD_RATE_FLOOR)
        with self._client.observe("upload_chunk") as note:
            try:
                # urllib3 hands a buffer object to sendall() as is: no copy of the chunk is made.
                response = self._client.http.put(
                    upload_url, data=chunk, headers=headers,  # type: ignore[arg-type]
                    timeout=timeout, allow_redirects=False)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                note.outcome = "timeout" if isinstance(exc, requests.Timeout) else "unavailable"
                return ChunkAnswer(0)  # dropped or silent: the caller retries this chunk
            except requests.RequestException as exc:
                raise UpstreamError("The upload to TikTok failed.",
                                    code="tiktok_upload_failed") from exc
            note.outcome, note.bytes_sent = _chunk_outcome(response.status_code, size)
            with response:
                match = CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                return ChunkAnswer(response.status_code, int(match[2]) if match else None)


def refuses_chunk_plan(exc: TikTokApiError, chunk_count: int) -> bool:
    """§5.11 [OBS]: since about 2026-08-09 TikTok may refuse every multi-chunk init with 400
    `invalid_params` "The chunk size is invalid". The client keeps no message, so an
    `invalid_params` answer to a multi-chunk plan (which the broker's rules already checked) is
    read as that refusal."""
    return chunk_count > 1 and exc.tiktok_code in ("invalid_params", "invalid_param")


def _chunk_outcome(status: int, size: int) -> tuple[str, int]:
    """The metrics outcome of a chunk PUT, and the bytes TikTok took (all of them, or none)."""
    if status in (200, 201, 206):
        return "ok", size
    if status == 429:
        return "rate_limited", 0
    return ("http_5xx" if status >= 500 else f"http_{status // 100}xx"), 0


def _started(data: dict[str, Any]) -> Started:
    publish_id = data.get("publish_id")
    if not isinstance(publish_id, str) or not publish_id:
        raise UpstreamError("TikTok's answer named no publish_id.", code="tiktok_bad_response")
    upload_url = data.get("upload_url")
    return Started(publish_id, upload_url if isinstance(upload_url, str) and upload_url else None)
