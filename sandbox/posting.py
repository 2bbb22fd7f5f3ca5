"""Content Posting endpoints (§5.2-5.5, §5.7): init for video, inbox and photo, status, cancel."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from .api import authenticate, scope_error, user_of
from .posts import Task, chunk_plan_problem
from .responses import api_error, envelope, invalid_param, log_id
from .store import AccessToken

bp = Blueprint("posting", __name__)
ANY_POST_SCOPE = ("video.publish", "video.upload")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # §5.2: limits are in UTF-16 code units


def url_verified(url: str, prefixes: tuple[str, ...]) -> bool:
    """§5.7: a URL-prefix entry covers URLs starting with it; a bare domain covers subdomains."""
    host = (urlsplit(url).hostname or "").lower()
    for entry in prefixes:
        if "://" in entry:
            if url.startswith(entry):
                return True
        elif host == entry.lower() or host.endswith("." + entry.lower()):
            return True
    return False


def _body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def _pull_problem(urls: list[Any]) -> Response | None:
    cfg = current_app.extensions["sandbox"].config
    for url in urls:
        if not isinstance(url, str) or not url.startswith("https://"):
            return invalid_param("Media URLs must be https.")  # §5.7
    for url in urls:
        if not url_verified(url, cfg.verified_url_prefixes):
            return api_error("url_ownership_unverified",  # §5.7: verified URL properties only
                             "The media URL is not under a verified domain or URL prefix.", 403)
    return None


def _source(info: Any) -> tuple[str, tuple[int, int, int] | None] | Response:
    """Validate source_info for a video; returns (source, chunk plan) or an error."""
    cfg = current_app.extensions["sandbox"].config
    if not isinstance(info, dict) or info.get("source") not in ("FILE_UPLOAD", "PULL_FROM_URL"):
        return invalid_param("source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")
    if info["source"] == "PULL_FROM_URL":
        if not info.get("video_url"):
            return invalid_param("source_info.video_url is required.")
        return "PULL_FROM_URL", None
    plan = (info.get("video_size"), info.get("chunk_size"), info.get("total_chunk_count"))
    problem = chunk_plan_problem(*plan, cfg)
    if problem:
        return invalid_param(problem)
    if cfg.refuse_multi_chunk and plan[2] != 1:  # §5.11 [OBS]: since 2026-08
        return api_error("invalid_params", "The chunk size is invalid", 400)
    return "FILE_UPLOAD", plan  # type: ignore[return-value]


def _privacy_problem(tok: AccessToken, post_info: dict[str, Any]) -> Response | None:
    """Direct posts: the privacy level must be offered (§5.2) and allowed when unaudited (§5.9)."""
    cfg = current_app.extensions["sandbox"].config
    user = user_of(tok)
    level = post_info.get("privacy_level")
    if level not in user.creator_info("")["privacy_level_options"]:
        return api_error("privacy_level_option_mismatch",
                         "privacy_level is not one of the creator's privacy_level_options.", 403)
    if not cfg.audited and (level != "SELF_ONLY" or not user.private):
        # §5.9: unaudited clients post SELF_ONLY only, and only from private accounts.
        return api_error("unaudited_client_can_only_post_to_private_accounts",
                         "Unaudited clients can only post to private accounts.", 403)
    return None


def _refused(tok: AccessToken, mode: str) -> Response | None:
    if mode == "inbox" and current_app.extensions["sandbox"].config.inbox_app_too_old:
        return api_error("app_version_check_failed",  # §5.11: drafts need TikTok 31.8+
                         "The creator's TikTok app is too old for this.", 400)
    refusal = current_app.extensions["sandbox"].posts.posting_refusal(user_of(tok), mode)
    return api_error(refusal[0], refusal[1], 403) if refusal else None


def _created(task: Task) -> Response:
    data: dict[str, Any] = {"publish_id": task.publish_id}
    if task.upload is not None:
        query = urlencode({"upload_id": task.upload.upload_id, "upload_token": task.upload.token})
        data["upload_url"] = f"{request.host_url}upload/?{query}"  # §5.2: ≤ 256 characters
    return envelope(data)


@bp.post("/v2/post/publish/video/init/")
def video_init() -> Response:
    """Direct Post of a video (§5.2)."""
    tok = authenticate("video_init", "video.publish")
    if isinstance(tok, Response):
        return tok
    body = _body()
    post_info = body.get("post_info") if body else None
    if not isinstance(post_info, dict) or not post_info.get("privacy_level"):
        return invalid_param("post_info.privacy_level is required.")
    if _utf16_len(str(post_info.get("title", ""))) > 2200:
        return invalid_param("post_info.title exceeds 2200 UTF-16 units.")
    cfg = current_app.extensions["sandbox"].config
    if cfg.require_brand_toggle and "brand_content_toggle" not in post_info:  # §5.2 [CONFLICT]
        return invalid_param("post_info.brand_content_toggle is required.")
    src = _source(body.get("source_info") if body else None)
    if isinstance(src, Response):
        return src
    info = body["source_info"] if body else {}
    problem = (_refused(tok, "direct") or _privacy_problem(tok, post_info)
               or (_pull_problem([info["video_url"]]) if src[0] == "PULL_FROM_URL" else None))
    if problem:
        return problem
    posts = current_app.extensions["sandbox"].posts
    return _created(posts.create(tok.open_id or "", "video", "direct", src[0],
                                 post_info["privacy_level"], src[1]))


@bp.post("/v2/post/publish/inbox/video/init/")
def inbox_video_init() -> Response:
    """Upload a draft to the creator's inbox (§5.3): source_info only."""
    tok = authenticate("inbox_video_init", "video.upload")
    if isinstance(tok, Response):
        return tok
    body = _body()
    src = _source(body.get("source_info") if body else None)
    if isinstance(src, Response):
        return src
    info = body["source_info"] if body else {}
    problem = _refused(tok, "inbox") or (
        _pull_problem([info["video_url"]]) if src[0] == "PULL_FROM_URL" else None)
    if problem:
        return problem
    posts = current_app.extensions["sandbox"].posts
    return _created(posts.create(tok.open_id or "", "video", "inbox", src[0], "", src[1]))


@bp.post("/v2/post/publish/content/init/")
def content_init() -> Response:
    """Photo post, direct or to the inbox (§5.4); PULL_FROM_URL only."""
    tok = authenticate("content_init")
    if isinstance(tok, Response):
        return tok
    cfg = current_app.extensions["sandbox"].config
    body = _body() or {}
    mode = body.get("post_mode")
    if mode == "DIRECT POST" and cfg.accept_spaced_post_mode:  # §5.4 [CONFLICT] doc table
        mode = "DIRECT_POST"
    if body.get("media_type") != "PHOTO" or mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        return invalid_param("media_type must be PHOTO and post_mode DIRECT_POST or MEDIA_UPLOAD.")
    direct = mode == "DIRECT_POST"
    if ("video.publish" if direct else "video.upload") not in tok.scopes:
        return scope_error()
    post_info: dict[str, Any] = _section(body, "post_info")
    info: dict[str, Any] = _section(body, "source_info")
    images = info.get("photo_images")
    cover = info.get("photo_cover_index", 0)
    if (info.get("source") != "PULL_FROM_URL" or not isinstance(images, list)
            or not 1 <= len(images) <= 35 or not isinstance(cover, int)
            or not 0 <= cover < len(images)):
        return invalid_param("source_info needs PULL_FROM_URL, 1-35 photo_images, a valid index.")
    if (_utf16_len(str(post_info.get("title", ""))) > 90
            or _utf16_len(str(post_info.get("description", ""))) > 4000):
        return invalid_param("title is limited to 90 and description to 4000 UTF-16 units.")
    if direct and not post_info.get("privacy_level"):
        return invalid_param("post_info.privacy_level is required for DIRECT_POST.")
    problem = (_refused(tok, "direct" if direct else "inbox")
               or (_privacy_problem(tok, post_info) if direct else None)
               or _pull_problem(images))
    if problem:
        return problem
    posts = current_app.extensions["sandbox"].posts
    task = posts.create(tok.open_id or "", "photo", "direct" if direct else "inbox",
                        "PULL_FROM_URL", post_info.get("privacy_level", ""))
    pngs = [u for u in images if str(u).lower().split("?")[0].endswith(".png")]
    task.fail_later = cfg.photo_fail_reason or (  # §5.11: found while TikTok downloads them
        "file_format_check_failed" if cfg.refuse_png and pngs else "")
    return _created(task)


def _own_task(tok: AccessToken) -> Task | Response:
    body = _body() or {}
    task: Task | None = current_app.extensions["sandbox"].posts.tasks.get(
        str(body.get("publish_id", "")))
    if task is None:
        return api_error("invalid_publish_id", "The publish_id does not exist.", 400)
    if task.open_id != tok.open_id:
        return api_error("token_not_authorized_for_specified_publish_id",
                         "The token is not authorized for this publish_id.", 400)
    return task


@bp.post("/v2/post/publish/status/fetch/")
def status_fetch() -> Response:
    """Post status (§5.5); it progresses with time towards its terminal state."""
    tok = authenticate("status_fetch", *ANY_POST_SCOPE)
    if isinstance(tok, Response):
        return tok
    task = _own_task(tok)
    if isinstance(task, Response):
        return task
    return envelope(current_app.extensions["sandbox"].posts.view(task))


@bp.post("/v2/post/publish/cancel/")
def cancel() -> Response:
    """Cancel a pull still in progress (§5.7); the answer is the error object only."""
    tok = authenticate("cancel", *ANY_POST_SCOPE)
    if isinstance(tok, Response):
        return tok
    task = _own_task(tok)
    if isinstance(task, Response):
        return task
    posts = current_app.extensions["sandbox"].posts
    with posts.lock:
        posts.advance(task)
        if task.source != "PULL_FROM_URL" or task.status != "PROCESSING_DOWNLOAD":
            return api_error("publish_not_cancellable", "The publish task cannot be cancelled.",
                             400)
        posts.fail(task, "publish_cancelled")
    return jsonify(error={"code": "ok", "message": "", "log_id": log_id()})
