"""TikTok's Display API (tiktok-api.md §4b): the user's public videos, listed or queried by id.

Both calls are POSTs with `fields` in the query and a JSON body (§0), answered in the v2
envelope through `TikTokClient.api`. A `cover_image_url` is a signed CDN link that expires; when
it names its expiry (`x-expires`, §4b [OBS]) that is used, else six hours from the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from broker.errors import UpstreamError
from broker.tiktok.client import TikTokClient

VIDEO_LIST = "/v2/video/list/"
VIDEO_QUERY = "/v2/video/query/"
SCOPE = "video.list"  # §4b: every Display field needs it
VIDEO_FIELDS = ("id", "create_time", "cover_image_url", "share_url", "video_description",
                "duration", "height", "width", "title", "embed_html", "embed_link", "like_count",
                "comment_count", "share_count", "view_count", "is_aigc")
MAX_COUNT = 20  # §4b: max_count 1..20, and at most 20 ids per query
COVER_LIFE = 6 * 3600  # §4b: a cover_image_url expires 6 h after it is issued
# §4b: 600 requests per endpoint per one-minute sliding window, per app (not per token).
APP_LIMIT_PER_MINUTE = 600


@dataclass(frozen=True)
class VideoPage:
    """One page of `video/list`: the videos, the cursor of the next page, whether there is one."""

    videos: list[dict[str, Any]]
    cursor: int | None
    has_more: bool


class Display:
    """The Display API endpoints for one user's access token at a time."""

    def __init__(self, client: TikTokClient) -> None:
        self._client = client

    def list_videos(self, access_token: str, fields: tuple[str, ...], cursor: int | None,
                    max_count: int) -> VideoPage:
        """One page of the user's public videos, newest first (§4b: cursor in UTC ms)."""
        body: dict[str, Any] = {"max_count": max_count}  # §4b: default sizes differ; send it
        if cursor is not None:
            body["cursor"] = cursor
        data = self._client.api("POST", VIDEO_LIST, access_token,
                                params={"fields": ",".join(fields)}, json=body)
        next_cursor, has_more = data.get("cursor"), data.get("has_more", False)
        if next_cursor is not None and (not isinstance(next_cursor, int)
                                        or isinstance(next_cursor, bool)):
            raise UpstreamError("TikTok sent a video list with a bad cursor.",
                                code="tiktok_bad_response")
        return VideoPage(_videos(data), next_cursor, has_more is True)

    def query_videos(self, access_token: str, fields: tuple[str, ...],
                     video_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The user's own videos among the ids (§4b: unknown ids are simply absent)."""
        data = self._client.api("POST", VIDEO_QUERY, access_token,
                                params={"fields": ",".join(fields)},
                                json={"filters": {"video_ids": list(video_ids)}})
        return _videos(data)


def _videos(data: dict[str, Any]) -> list[dict[str, Any]]:
    videos = data.get("videos", [])
    if not isinstance(videos, list) or not all(isinstance(v, dict) for v in videos):
        raise UpstreamError("TikTok sent a malformed video list.", code="tiktok_bad_response")
    # Ids are int64 in spirit: kept as strings, which JavaScript cannot round.
    return [{**v, "id": str(v["id"])} if isinstance(v.get("id"), int) else v for v in videos]


def cover_expiry(url: str, issued_at: float) -> float:
    """When a cover URL stops working: its `x-expires` (§4b [OBS]), else 6 h after issue."""
    try:
        found = parse_qs(urlsplit(url).query).get("x-expires", [])
        return float(int(found[0])) if found else issued_at + COVER_LIFE
    except ValueError:
        return issued_at + COVER_LIFE
