"""The API models of scheduled posts (`/api/posts`), beside the rest in broker.schemas."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from broker.schemas import POST_CODES, Body, HttpsUrl, Mode, PhotoPostInfo, Query, VideoPostInfo

PostStatus = Literal["scheduled", "deferred", "running", "processing", "published", "inbox",
                     "failed", "cancelled"]


class PostRequest(Body):
    """A post for the worker: now, or at `publish_at` (SPEC "Scheduled posts")."""

    kind: Literal["video", "photo"]
    mode: Mode
    post_info: VideoPostInfo | PhotoPostInfo | None = None
    source_url: HttpsUrl | None = Field(None, description="A video the broker fetches.")
    video_url: HttpsUrl | None = Field(None, description="A video TikTok pulls (verified URL).")
    photo_images: list[HttpsUrl] | None = Field(None, min_length=1, max_length=35)
    photo_cover_index: int = Field(0, ge=0)
    publish_at: str | None = Field(None, max_length=64, description=(
        "RFC 3339 with an offset, e.g. 2026-12-01T18:00:00+01:00; absent: as soon as possible."))
    error_codes: ClassVar[dict[str, str]] = {
        **POST_CODES, "kind": "invalid_kind", "source_url": "media_url_not_https",
        "video_url": "media_url_not_https", "photo_images": "invalid_photo_images",
        "photo_cover_index": "invalid_photo_cover_index", "publish_at": "invalid_publish_at"}


class PostRecord(BaseModel):
    """A post the worker runs; times RFC 3339, unknown values null."""

    post_id: str
    status: PostStatus
    publish_at: str | None
    publish_id: str | None
    post_ids: list[str] | None
    fail_reason: str | None
    attempts: int
    next_attempt_at: str | None
    created_at: str


class PostList(BaseModel):
    posts: list[PostRecord] = Field(description="The caller's posts, newest first.")


class PostListQuery(Query):
    status: PostStatus | None = Field(None, description="Only posts in this status.")
    error_codes: ClassVar[dict[str, str]] = {"status": "invalid_status"}
