"""The Display routes' request and response models (published in `/openapi.json`)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, Field

from broker.schemas import Body, Query
from broker.tiktok.display import VIDEO_FIELDS

VideoId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
FIELDS_HELP = ("Comma-separated video fields (id, create_time, cover_image_url, share_url, "
               "video_description, duration, height, width, title, embed_html, embed_link, "
               "like_count, comment_count, share_count, view_count, is_aigc); all when absent.")


class VideosQuery(Query):
    cursor: int | None = Field(None, ge=0, le=2**63 - 1, description="The `cursor` of the "
                               "previous page (TikTok's UTC milliseconds); absent: the newest.")
    max_count: int = Field(20, ge=1, le=20, description="Videos per page, 1 to 20.")
    # ASCII field names only: a URL stays far under gunicorn's request-line limit (no 414).
    fields: str | None = Field(None, max_length=400, pattern=r"^[A-Za-z0-9_, ]*$",
                               description=FIELDS_HELP)
    error_codes: ClassVar[dict[str, str]] = {"cursor": "invalid_cursor",
                                             "max_count": "invalid_max_count",
                                             "fields": "invalid_fields"}


class VideoQueryRequest(Body):
    video_ids: list[VideoId] = Field(min_length=1, max_length=20,
                                     description="1 to 20 ids of the account's videos.")
    fields: str | Annotated[list[str], Field(max_length=len(VIDEO_FIELDS))] | None = Field(
        None, max_length=400, description=FIELDS_HELP)
    error_codes: ClassVar[dict[str, str]] = {"video_ids": "invalid_video_ids",
                                             "fields": "invalid_fields"}
    malformed_description: ClassVar[str] = 'Send {"video_ids": ["..."]} as JSON.'


class Video(BaseModel):
    """A video's fields as asked for (TikTok's Display API); the cover URL expires within 6 h."""

    id: str | None = None
    create_time: int | None = Field(None, description="Epoch seconds.")
    cover_image_url: str | None = Field(None, description="Signed; expires within 6 hours.")
    share_url: str | None = None
    video_description: str | None = None
    duration: int | None = Field(None, description="Seconds.")
    height: int | None = None
    width: int | None = None
    title: str | None = None
    embed_html: str | None = None
    embed_link: str | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    view_count: int | None = None
    is_aigc: bool | None = None


class VideoPage(BaseModel):
    videos: list[Video]
    cursor: int | None = Field(description="Pass as `cursor` for the next page.")
    has_more: bool


class VideoList(BaseModel):
    videos: list[Video] = Field(description="The account's videos among the ids asked for.")
