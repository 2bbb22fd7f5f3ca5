"""The HTTP API's bodies as pydantic models: what the views accept and answer, and what
`/openapi.json` publishes (built from these same classes, so the document cannot drift).

Request models carry the broker's error codes: a field that fails validation is refused with the
code of its longest matching path in `error_codes`, else `invalid_request` (broker.web.contract).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

PrivacyLevel = Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                       "SELF_ONLY"]
Mode = Literal["direct", "draft"]
HttpsUrl = Annotated[str, Field(description="An absolute https URL (TikTok pulls it).")]


class Body(BaseModel):
    """A JSON request body; unknown top-level fields are ignored."""

    model_config = ConfigDict(strict=True)
    error_codes: ClassVar[dict[str, str]] = {}
    malformed_code: ClassVar[str] = "invalid_json"
    malformed_description: ClassVar[str] = "Send a JSON object (Content-Type: application/json)."


class Query(BaseModel):
    """Query-string parameters (each a string); unknown ones are ignored."""

    error_codes: ClassVar[dict[str, str]] = {}


class ErrorBody(BaseModel):
    """Every error the broker answers: a stable code and a sentence for people."""

    error: str = Field(description="A stable machine-readable code, e.g. invalid_token.")
    error_description: str = Field(description="What went wrong, for people.")
    tiktok_log_id: str | None = Field(None, description="TikTok's log id, when TikTok answered.")


# --- auth ------------------------------------------------------------------------------------

class LoginQuery(Query):
    redirect_to: str | None = Field(None, description="A path on the SPA, or an absolute URL "
                                    "whose origin is in SPA_ORIGINS.")
    scope: str | None = Field(None, description="Extra TikTok scopes, comma-separated.")
    nonce: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{16,128}$", description=(
        "A random value the SPA made and kept for this login; it comes back in the fragment "
        "(`nonce=`), and the SPA ignores a fragment without its own nonce (login CSRF)."))
    error_codes: ClassVar[dict[str, str]] = {"nonce": "invalid_nonce"}


class CallbackQuery(Query):
    state: str | None = None
    code: str | None = None
    scopes: str | None = Field(None, description="The scopes the user granted, comma-separated.")
    error: str | None = None
    error_description: str | None = None


class LoginCodeRequest(Body):
    login_code: str = Field(min_length=1, description="The one-time code from the fragment.")
    error_codes: ClassVar[dict[str, str]] = {}
    malformed_code: ClassVar[str] = "invalid_request"
    malformed_description: ClassVar[str] = 'Send {"login_code": "..."} as JSON.'


class TokenResponse(BaseModel):
    access_token: str = Field(description="The broker's JWT (never TikTok's token).")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Lifetime of the JWT, seconds.")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class LogoutQuery(Query):
    revoke: Annotated[Literal["true", "false", "1", "0"], BeforeValidator(_lower)] = Field(
        "false", description="true: also revoke the grant at TikTok and end every session.")


# --- profile and creator info --------------------------------------------------------------

class MeQuery(Query):
    fields: str | None = Field(None, max_length=400, pattern=r"^[A-Za-z0-9_, ]*$",
                               description="Comma-separated profile fields; all the "
                               "granted scopes allow when absent.")
    error_codes: ClassVar[dict[str, str]] = {"fields": "invalid_fields"}


class Profile(BaseModel):
    """The fields asked for (each needs its scope); TikTok's null when it gave none."""

    open_id: str | None = None
    union_id: str | None = None
    avatar_url: str | None = None
    avatar_url_100: str | None = None
    avatar_large_url: str | None = None
    display_name: str | None = None
    bio_description: str | None = None
    profile_deep_link: str | None = None
    is_verified: bool | None = None
    username: str | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None


class CreatorInfo(BaseModel):
    """TikTok's creator info (§5.1, fields TikTok adds pass through) plus the app's limits."""

    model_config = ConfigDict(extra="allow")
    creator_avatar_url: str | None = None
    creator_username: str | None = None
    creator_nickname: str | None = None
    privacy_level_options: list[str] | None = None
    comment_disabled: bool | None = None
    duet_disabled: bool | None = None
    stitch_disabled: bool | None = None
    max_video_post_duration_sec: int | None = None
    app_audited: bool = Field(description="Whether the app passed TikTok's posting audit.")
    allowed_privacy_level_options: list[str] = Field(
        description="The privacy levels this app may use for this creator now.")


# --- posting ---------------------------------------------------------------------------------

class VideoPostInfo(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    title: str = ""
    privacy_level: PrivacyLevel | None = None
    disable_duet: bool = False
    disable_comment: bool = False
    disable_stitch: bool = False
    video_cover_timestamp_ms: int = 0
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False


class PhotoPostInfo(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    title: str = ""
    description: str = ""
    privacy_level: PrivacyLevel | None = None
    disable_comment: bool = False
    auto_add_music: bool = False
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False


POST_CODES = {"mode": "invalid_mode", "post_info": "invalid_post_info",
               "post_info.privacy_level": "invalid_privacy_level"}


class VideoRequest(Body):
    """Either `video_url` (TikTok pulls it) or `video_size` (the bytes are PUT to upload_url)."""

    mode: Mode
    post_info: VideoPostInfo | None = None
    video_url: HttpsUrl | None = None
    video_size: int | None = Field(None, ge=1, description="The video's size in bytes.")
    source_url: HttpsUrl | None = Field(None, description=(
        "The video in the app's own storage: the broker fetches it and uploads it to TikTok; "
        "answered 202 with a post record."))
    error_codes: ClassVar[dict[str, str]] = {**POST_CODES, "video_url": "media_url_not_https",
                                             "video_size": "invalid_video_size",
                                             "source_url": "media_url_not_https"}


class PhotoRequest(Body):
    mode: Mode
    post_info: PhotoPostInfo | None = None
    photo_images: list[HttpsUrl] = Field(min_length=1, max_length=35)
    photo_cover_index: int = Field(0, ge=0, description="0-based index of the cover image.")
    error_codes: ClassVar[dict[str, str]] = {**POST_CODES,
                                             "photo_images": "invalid_photo_images",
                                             "photo_cover_index": "invalid_photo_cover_index"}


class PostStarted(BaseModel):
    publish_id: str
    upload_url: Annotated[str | None, Field(description="Where to PUT the bytes (uploads only).")
                          ] = None


class PublishStatus(BaseModel):
    """A post's status as TikTok's status fetch or its webhooks last reported it."""

    publish_id: str
    status: str | None = Field(description="TikTok's status, e.g. PROCESSING_UPLOAD.")
    fail_reason: str | None
    post_ids: list[str] | None
    uploaded_bytes: int | None


# --- operations ------------------------------------------------------------------------------

class WebhookEvent(BaseModel):
    """TikTok's signed envelope (tiktok-api.md §6); `content` is itself a JSON string."""

    client_key: str
    event: str
    create_time: int
    user_openid: str | None = None
    content: str


class WebhookAck(BaseModel):
    status: Literal["processed", "duplicate", "ignored"]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    redis: Literal["up", "down"]


class Jwks(BaseModel):
    keys: list[dict[str, Any]] = Field(description="Public JWKs (empty for an HS256 secret).")
