"""What the broker checks before TikTok hears of a post, and how a video is cut into chunks.

Pure functions: every refusal is a BrokerError with its own code and a sentence, raised before
any TikTok call, so a request TikTok would refuse costs none of the creator's rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import urlsplit

from broker.errors import BadRequest, Forbidden, PayloadTooLarge
from broker.schemas import PhotoPostInfo, PrivacyLevel, VideoPostInfo

MIB = 1024 * 1024
WHOLE_BELOW = 5 * MIB  # §5.6: files under 5 MB go up in one piece
MAX_CHUNK = 64 * MIB  # §5.6: chunks are at most 64 MB (the final one up to 128 MB)
MAX_VIDEO_BYTES = 4 * 1024 * MIB  # §5.8: videos of at most 4 GB

DIRECT_SCOPE, DRAFT_SCOPE = "video.publish", "video.upload"
PRIVACY_LEVELS: tuple[str, ...] = get_args(PrivacyLevel)
PHOTO_DRAFT_FIELDS = ("title", "description")  # §5.4: the rest applies to direct posts only


@dataclass(frozen=True)
class ChunkPlan:
    """A FILE_UPLOAD's chunks by TikTok's floor rule (§5.6); the last takes the remainder."""

    video_size: int
    chunk_size: int
    count: int

    def bounds(self, index: int) -> tuple[int, int]:
        """(first byte, length) of chunk `index`."""
        first = index * self.chunk_size
        last = index == self.count - 1
        return first, (self.video_size - first) if last else self.chunk_size

    @property
    def largest(self) -> int:
        """The longest chunk (the final one): the one buffer an upload needs."""
        return self.bounds(self.count - 1)[1]

    def is_boundary(self, offset: int) -> bool:
        """Whether `offset` bytes is a whole number of chunks (where an upload can resume)."""
        return offset == self.video_size or (
            0 <= offset < self.video_size and offset % self.chunk_size == 0
            and offset // self.chunk_size < self.count)

    def source_info(self) -> dict[str, Any]:
        return {"source": "FILE_UPLOAD", "video_size": self.video_size,
                "chunk_size": self.chunk_size, "total_chunk_count": self.count}


def plan_chunks(video_size: int, chunk_size: int) -> ChunkPlan:
    """Plan by §5.6: whole under 5 MiB, else floor(size/chunk) chunks, at least two above 64 MiB."""
    if video_size > MAX_VIDEO_BYTES:
        raise PayloadTooLarge("TikTok accepts videos of at most 4 GB (4,294,967,296 bytes).",
                              code="video_too_large")
    if video_size < 1:
        raise BadRequest("video_size must be a positive number of bytes.",
                         code="invalid_video_size")
    if video_size < WHOLE_BELOW:
        return ChunkPlan(video_size, video_size, 1)
    chunk = min(chunk_size, video_size)
    if video_size > MAX_CHUNK and video_size // chunk < 2:
        chunk = video_size // 2  # §5.6: a file over 64 MB must be chunked
    # floor: the final chunk is chunk + remainder < 2 * 64 MiB; 4 GiB / 5 MiB < 1000 chunks
    return ChunkPlan(video_size, chunk, video_size // chunk)


def utf16_units(text: str) -> int:
    """Length as TikTok counts it: UTF-16 code units (§5.2), so an emoji counts as two."""
    return len(text.encode("utf-16-le")) // 2


def require_scope(scopes: frozenset[str], mode: str) -> None:
    """Direct posts need `video.publish`, drafts `video.upload` (§5)."""
    scope = DIRECT_SCOPE if mode == "direct" else DRAFT_SCOPE
    if scope not in scopes:
        raise Forbidden(f"Posting as a {mode} needs the {scope} permission, which this login "
                        "did not grant; log in again and allow it.", code="scope_not_granted")


def post_info_fields(info: VideoPostInfo | PhotoPostInfo | None) -> dict[str, Any]:
    """The post_info fields the client set (validated by its model); brand toggles always sent."""
    fields = info.model_dump(exclude_unset=True, exclude_none=True) if info else {}
    fields.setdefault("brand_content_toggle", False)  # §5.2 [CONFLICT]: send both brand booleans
    fields.setdefault("brand_organic_toggle", False)
    return fields


def check_texts(info: dict[str, Any], title_max: int, description_max: int = 4000) -> None:
    """Title and description lengths in UTF-16 units (§5.2: 2200; §5.4: 90 and 4000)."""
    if utf16_units(info.get("title", "")) > title_max:
        raise BadRequest(f"The title is longer than TikTok's {title_max} UTF-16 units.",
                         code="title_too_long")
    if utf16_units(info.get("description", "")) > description_max:
        raise BadRequest(f"The description is longer than TikTok's {description_max} UTF-16 "
                         "units.", code="description_too_long")


def check_privacy(info: dict[str, Any], *, audited: bool) -> None:
    """A direct post names its privacy (no default, §5.10); branded content is never private."""
    level = info.get("privacy_level")
    if not level:
        raise BadRequest("post_info.privacy_level is required for a direct post: the creator "
                         "must choose who can see it.", code="privacy_level_required")
    if level not in PRIVACY_LEVELS:
        raise BadRequest("post_info.privacy_level must be one of " + ", ".join(PRIVACY_LEVELS)
                         + ".", code="invalid_privacy_level")
    if info.get("brand_content_toggle") and level == "SELF_ONLY":  # §5.10
        raise BadRequest("Branded content visibility cannot be set to private.",
                         code="branded_content_private")
    if not audited and level != "SELF_ONLY":  # §5.9: unaudited clients post SELF_ONLY only
        raise Forbidden("This app has not passed TikTok's Content Posting audit, so TikTok only "
                        "accepts posts visible to 'Only me' (SELF_ONLY).",
                        code="unaudited_app_self_only")


def check_offered(info: dict[str, Any], creator: dict[str, Any]) -> None:
    """The chosen privacy must be among the creator's current options (§5.2, §5.10)."""
    if creator.get("creator_can_post") is False:  # §5.1 [OBS]: undocumented, optional
        raise Forbidden("TikTok says this account cannot post right now; try again later.",
                        code="creator_cannot_post")
    options = creator.get("privacy_level_options") or []
    if info.get("privacy_level") not in options:
        raise BadRequest("TikTok does not offer this privacy level to this creator now; "
                         "choose one of " + ", ".join(map(str, options)) + ".",
                         code="privacy_level_option_mismatch")


def check_pull_url(url: Any, verified: tuple[str, ...]) -> str:
    """An https URL (§5.7) under a verified URL prefix or domain, when any are configured."""
    if not isinstance(url, str) or not url.startswith("https://") or not urlsplit(url).hostname:
        raise BadRequest("Media URLs must be absolute https URLs.", code="media_url_not_https")
    # Browsers and TikTok may read `https://evil\@media.example.com/` as host evil; Python reads
    # media.example.com. Whatever parsers could disagree on is refused before the prefix check.
    if "\\" in url or "@" in urlsplit(url).netloc or not url.isascii() \
            or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise BadRequest("Media URLs may not contain backslashes, user names or passwords, "
                         "spaces or control characters.", code="invalid_media_url")
    if verified and not url_verified(url, verified):
        raise BadRequest("The media URL is not under a domain or URL prefix verified with "
                         "TikTok (TIKTOK_VERIFIED_URL_PREFIXES).", code="url_ownership_unverified")
    return url


def url_verified(url: str, verified: tuple[str, ...]) -> bool:
    """§5.7: a URL prefix covers URLs starting with it; a domain covers all its subdomains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in verified:
        if "://" not in entry:
            domain = entry.strip(".").lower()
            if host == domain or host.endswith("." + domain):
                return True
            continue
        prefix = urlsplit(entry)
        if (parts.scheme == prefix.scheme and parts.netloc.lower() == prefix.netloc.lower()
                and url.split("://", 1)[1][len(parts.netloc):].startswith(prefix.path)):
            return True
    return False
