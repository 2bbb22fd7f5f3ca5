"""The control and inspection API under /_sandbox/ (documented in sandbox/README.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .config import ConfigError
from .posts import TERMINAL
from .users import USERS, USERS_BY_ID

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


def _svc() -> Any:
    return current_app.extensions["sandbox"]


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _problem(message: str, status: int = 400, **extra: Any) -> Response:
    resp = jsonify(error=message, **extra)
    resp.status_code = status
    return resp


@bp.get("/health")
def health() -> Response:
    """Liveness: 200 {"status": "ok"}."""
    return jsonify(status="ok")


@bp.get("/requests")
def requests_log() -> Response:
    """The request log, optionally filtered by ``endpoint`` and ``grant_type``."""
    args = request.args
    return jsonify(requests=_svc().log.query(args.get("endpoint"), args.get("grant_type")))


@bp.delete("/requests")
def reset_requests() -> Response:
    """Empty the request log."""
    _svc().log.clear()
    return jsonify(requests=[])


@bp.get("/faults")
def list_faults() -> Response:
    """The active faults."""
    return jsonify(faults=_svc().faults.listing())


@bp.post("/faults")
def add_fault() -> Response:
    """Inject a fault: {endpoint, kind, status?, seconds?, times?, error?}."""
    try:
        fault = _svc().faults.add(_json())
    except (ValueError, TypeError) as exc:
        return _problem(str(exc))
    return jsonify(fault=fault.__dict__, faults=_svc().faults.listing())


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    _svc().faults.clear()
    return jsonify(faults=[])


def _user_or_404(open_id: str) -> Response | None:
    return None if open_id in USERS_BY_ID else _problem(f"unknown user {open_id!r}", 404)


@bp.get("/users")
def users() -> Response:
    """The built-in test users and their profiles."""
    return jsonify(users=[{**u.profile(request.host_url), "label": u.label, "private": u.private,
                           "banned": u.banned, "at_cap": u.at_cap} for u in USERS])


@bp.post("/users/<open_id>/expire-token")
def expire_token(open_id: str) -> Response:
    """Expire all the user's access tokens now; refresh tokens keep working."""
    return _user_or_404(open_id) or jsonify(expired=_svc().store.expire_user(open_id))


@bp.post("/users/<open_id>/disconnect")
def disconnect(open_id: str) -> Response:
    """The user removes the app: grants revoked, authorization.removed sent (reason 1, §6)."""
    missing = _user_or_404(open_id)
    if missing:
        return missing
    svc = _svc()
    revoked = svc.store.revoke_user(open_id)
    svc.posts.fail_user(open_id)
    reason = int(_json().get("reason", 1))
    svc.webhooks.send("authorization.removed", open_id, {"reason": reason})
    return jsonify(revoked=len(revoked))


@bp.get("/config")
def get_config() -> Response:
    """Current settings (including effective TTLs)."""
    return jsonify(_svc().config.public())


@bp.post("/config")
def set_config() -> Response:
    """Change settings at runtime; all changes are validated together."""
    svc = _svc()
    body = {k: v for k, v in _json().items() if not k.startswith("effective_")}
    try:
        svc.config = svc.config.updated(body)
    except ConfigError as exc:
        return _problem("invalid configuration", problems=exc.problems)
    return jsonify(svc.config.public())


@bp.post("/reset")
def reset() -> Response:
    """Restore the start-up state: tokens, tasks, log, faults, webhooks, config, clock."""
    _svc().reset()
    return jsonify(status="ok")


@bp.post("/clock")
def clock() -> Response:
    """Advance sandbox time: {"advance": seconds}. Tokens, codes and uploads age accordingly."""
    try:
        seconds = float(_json().get("advance", 0))
    except (TypeError, ValueError):
        return _problem("advance must be a number of seconds")
    _svc().clock.advance(seconds)
    return jsonify(offset=_svc().clock.offset, now=_svc().clock.now())


@bp.get("/issued")
def issued() -> Response:
    """Every secret issued in this run (kept across resets), plus the client secret."""
    svc = _svc()
    with svc.store.lock:
        return jsonify(**{k: list(v) for k, v in svc.store.issued.items()},
                       client_secret=svc.config.client_secret)


def _task_or_404(publish_id: str) -> Any:
    return _svc().posts.tasks.get(publish_id)


@bp.get("/uploads/<publish_id>")
def upload_info(publish_id: str) -> Response:
    """The chunk plan a FILE_UPLOAD task declared and every PUT it received."""
    task = _task_or_404(publish_id)
    if task is None:
        return _problem("unknown publish_id", 404)
    posts = _svc().posts
    with posts.lock:
        up = task.upload
        plan = None if up is None else {
            "video_size": up.video_size, "chunk_size": up.chunk_size,
            "total_chunk_count": up.chunk_count, "received_bytes": up.received,
            "chunks": [dict(c) for c in up.chunks], "expires_at": up.expires_at,
        }
        return jsonify(publish_id=publish_id, open_id=task.open_id, media=task.media,
                       mode=task.mode, source=task.source, privacy_level=task.privacy,
                       status=posts.view(task)["status"], upload=plan,
                       **(plan or {}))


@bp.post("/publish/<publish_id>/fail")
def fail_task(publish_id: str) -> Response:
    """Force a task to FAILED with {"reason": <fail_reason>} (default "internal")."""
    task = _task_or_404(publish_id)
    if task is None:
        return _problem("unknown publish_id", 404)
    posts = _svc().posts
    with posts.lock:
        if task.status in TERMINAL:
            return _problem(f"task already {task.status}", 409)
        posts.fail(task, str(_json().get("reason", "internal")))
        return jsonify(posts.view(task))


@bp.get("/webhooks")
def webhooks() -> Response:
    """Every webhook delivery attempt: event, url, attempt, status_code, error, body."""
    return jsonify(deliveries=list(_svc().webhooks.attempts))


@bp.delete("/webhooks")
def clear_webhooks() -> Response:
    """Forget the delivery log and abandon pending retries."""
    _svc().webhooks.reset()
    return jsonify(deliveries=[])
