"""Display API (tiktok-api.md §4b): the user's public videos, listed by cursor or queried by id.

Each test user has a fixed catalogue of videos (some of them private, which are never shown),
and direct posts made through the sandbox join it once their processing ends and they are public
(the same moment they get a `publicaly_available_post_id`, §5.5). Cover URLs are signed and
expire `cover_url_ttl` seconds after they are issued (6 h, §4b), carrying `x-expires`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request

from .api import authenticate, media_base
from .responses import api_error, envelope, invalid_param

bp = Blueprint("videos", __name__)

VIDEO_FIELDS = ("id", "create_time", "cover_image_url", "share_url", "video_description",
                "duration", "height", "width", "title", "embed_html", "embed_link", "like_count",
                "comment_count", "share_count", "view_count", "is_aigc")
MAX_COUNT = 20  # §4b: max_count 1..20
DEFAULT_COUNT = 10  # §4b: the default differs between sources; clients should send max_count
# Test users' catalogues: (public videos, private videos). Alice's 27 public span two pages.
CATALOGUE = {"-000alice": (27, 3), "-000bob": (4, 2), "-000carol": (1, 0), "-000dave": (3, 0)}
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: catalogue videos are dated back from here


@dataclass(frozen=True)
class Video:
    """One video of a test user (or a post made through the sandbox)."""

    id: str
    open_id: str
    create_time: int
    public: bool
    title: str
    duration: int = 15

    def fields(self, base_url: str, now: float, ttl: int) -> dict[str, Any]:
        """Every §4b field; the cover URL is signed and expires `ttl` seconds from `now`."""
        n = int(self.id[-4:]) if self.id[-4:].isdigit() else 7
        share = f"https://www.tiktok.com/@sandbox/video/{self.id}"
        return {
            "id": self.id, "create_time": self.create_time,
            "cover_image_url": cover_url(base_url, self.id, int(now) + ttl),
            "share_url": share, "video_description": f"{self.title} #sandbox",
            "duration": self.duration, "height": 1920, "width": 1080, "title": self.title,
            "embed_html": f'<blockquote class="tiktok-embed" cite="{share}"></blockquote>',
            "embed_link": f"https://www.tiktok.com/embed/v2/{self.id}",
            "like_count": n * 13 % 997, "comment_count": n % 41, "share_count": n % 17,
            "view_count": n * 101 % 99_991, "is_aigc": False,
        }


def catalogue() -> list[Video]:
    """The fixed videos of every test user (public and private)."""
    out = []
    for u, (open_id, (public, private)) in enumerate(CATALOGUE.items()):
        for i in range(public + private):
            out.append(Video(id=f"{7_300_000_000_000_000_000 + u * 1000 + i}", open_id=open_id,
                             create_time=EPOCH - (u * 100 + i) * 86_400 - 3_600 * u,
                             public=i < public, title=f"Sandbox video {i + 1}"))
    return out


CATALOGUE_VIDEOS = catalogue()


def _secret() -> bytes:
    return current_app.extensions["sandbox"].config.client_secret.encode()


def cover_url(base_url: str, video_id: str, expires: int) -> str:
    """A signed cover URL with its expiry in the query (§4b [OBS]: x-expires, x-signature)."""
    sig = hmac.new(_secret(), f"{video_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{base_url}covers/{video_id}?x-expires={expires}&x-signature={sig}"


def videos_of(open_id: str) -> list[Video]:
    """The user's public videos, newest first: the catalogue plus finished public posts."""
    svc = current_app.extensions["sandbox"]
    mine = [v for v in CATALOGUE_VIDEOS if v.open_id == open_id and v.public]
    with svc.posts.lock:
        for task in list(svc.posts.tasks.values()):
            if task.open_id != open_id or task.media != "video":
                continue
            svc.posts.advance(task)
            if task.status == "PUBLISH_COMPLETE" and task.post_ids:  # §4b: public ones only
                done = (task.started_at or task.created_at) + svc.config.processing_seconds
                mine.append(Video(id=str(task.post_ids[0]), open_id=open_id,
                                  create_time=int(done), public=True, title="Posted via API"))
    return sorted(mine, key=lambda v: (v.create_time, v.id), reverse=True)


def _fields() -> list[str] | Response:
    fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
    if not fields:
        return api_error("invalid_params", "fields is required.", 400)
    unknown = [f for f in fields if f not in VIDEO_FIELDS]
    if unknown:
        return api_error("invalid_params", f"Invalid fields: {','.join(unknown)}", 400)
    return fields


def _render(videos: list[Video], fields: list[str]) -> list[dict[str, Any]]:
    svc = current_app.extensions["sandbox"]
    now, ttl, base = svc.clock.now(), svc.config.cover_url_ttl, media_base()
    return [{f: full[f] for f in fields}
            for full in (v.fields(base, now, ttl) for v in videos)]


def _body() -> dict[str, Any] | Response:
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        return invalid_param("The request body must be a JSON object.")
    return body


def _request(endpoint: str) -> tuple[Any, list[str], dict[str, Any]] | Response:
    """The caller's token (scope video.list), the fields asked for and the JSON body, or the
    refusal TikTok would answer (§4b)."""
    tok = authenticate(endpoint, "video.list")
    if isinstance(tok, Response):
        return tok
    fields, body = _fields(), _body()
    for problem in (fields, body):
        if isinstance(problem, Response):
            return problem
    assert isinstance(fields, list) and isinstance(body, dict)
    return tok, fields, body


@bp.post("/v2/video/list/")
def video_list() -> Response:
    """List the user's public videos, newest first, by `cursor` (UTC ms) and `max_count`."""
    asked = _request("video_list")
    if isinstance(asked, Response):
        return asked
    tok, fields, body = asked
    cursor, count = body.get("cursor"), body.get("max_count", DEFAULT_COUNT)
    if cursor is not None and (not isinstance(cursor, int) or isinstance(cursor, bool)
                               or cursor < 0):
        return invalid_param("cursor must be a non-negative int64 (UTC milliseconds).")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        return invalid_param(f"max_count must be between 1 and {MAX_COUNT}.")
    videos = videos_of(tok.open_id or "")
    if cursor is not None:
        videos = [v for v in videos if v.create_time * 1000 < cursor]
    page = videos[:count]
    # §4b: the cursor is a UTC timestamp in ms; the next page holds older videos.
    next_cursor = page[-1].create_time * 1000 if page else (cursor or 0)
    return envelope({"videos": _render(page, fields), "cursor": next_cursor,
                     "has_more": len(videos) > count})


@bp.post("/v2/video/query/")
def video_query() -> Response:
    """The user's own public videos among 1-20 ids; unknown ids are simply absent (§4b)."""
    asked = _request("video_query")
    if isinstance(asked, Response):
        return asked
    tok, fields, body = asked
    filters = body.get("filters")
    ids = filters.get("video_ids") if isinstance(filters, dict) else None
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_COUNT
            or not all(isinstance(i, str) for i in ids)):
        return invalid_param(f"filters.video_ids must be a list of 1 to {MAX_COUNT} strings.")
    wanted = set(ids)
    return envelope({"videos": _render([v for v in videos_of(tok.open_id or "")
                                        if v.id in wanted], fields)})


@bp.get("/covers/<video_id>")
def cover(video_id: str) -> Response:
    """A cover image, served only while its signed URL has not expired (§4b: 6 h)."""
    svc = current_app.extensions["sandbox"]
    expires = request.args.get("x-expires", "")
    good = cover_url("", video_id, int(expires)) if expires.isdigit() else ""
    if not good or not hmac.compare_digest(good.split("x-signature=")[1],
                                           request.args.get("x-signature", "")):
        return Response("Forbidden", status=403, mimetype="text/plain")
    if svc.clock.now() >= int(expires):
        return Response("URL expired", status=403, mimetype="text/plain")
    hue = int(video_id[-3:]) * 37 % 360 if video_id[-3:].isdigit() else 340
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="270" height="480">'
           f'<rect width="270" height="480" fill="hsl({hue},70%,45%)"/>'
           '<text x="135" y="250" font-size="28" text-anchor="middle" fill="#fff">'
           f'{video_id[-4:]}</text></svg>')
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private"})

