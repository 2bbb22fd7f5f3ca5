"""Bearer-token checks shared by the v2 APIs, user info (§4) and creator info (§5.1)."""

from __future__ import annotations

import math

from flask import Blueprint, Response, current_app, g, request

from .responses import api_error, envelope, invalid_param
from .store import AccessToken
from .users import FIELD_SCOPES, USERS_BY_ID, TestUser

bp = Blueprint("api", __name__)


def authenticate(endpoint: str, *scopes: str) -> AccessToken | Response:
    """Resolve the bearer token, apply the §7 rate limit, and require one of ``scopes``."""
    svc = current_app.extensions["sandbox"]
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header[:7].lower() == "bearer " else ""
    tok: AccessToken | None = svc.store.find_access(raw) if raw else None
    if tok is None or tok.open_id is None:
        # §4: 401 access_token_invalid, for missing, unknown, expired and revoked tokens alike.
        return api_error("access_token_invalid",
                         "The access token is invalid or not found in the request.", 401)
    g.open_id = tok.open_id
    if svc.config.rate_limits:
        wait = svc.limiter.hit(endpoint, raw, svc.clock.now())
        if wait is not None:
            resp = api_error("rate_limit_exceeded",
                             "API rate limit was exceeded, please try again later.", 429)
            if svc.config.ratelimit_header:  # §7 [UNCONFIRMED]: Nango reads x-ratelimit-reset
                resp.headers["x-ratelimit-reset"] = str(math.ceil(svc.clock.now() + wait))
            return resp
    if scopes and not any(s in tok.scopes for s in scopes):
        return scope_error()
    return tok


def scope_error() -> Response:
    """The missing-scope error; 401 scope_not_authorized by default (§4 [OBS])."""
    if current_app.extensions["sandbox"].config.missing_scope_error == "scope_permission_missed":
        return api_error("scope_permission_missed",
                         "Some of the requested fields need scopes the user did not grant.", 400)
    return api_error("scope_not_authorized",
                     "The user did not authorize the scope required for completing this request.",
                     401)


def media_base() -> str:
    """Base URL for avatar links: SANDBOX_PUBLIC_URL, else the host the caller used."""
    public = current_app.extensions["sandbox"].config.public_url
    return public.rstrip("/") + "/" if public else request.host_url


def user_of(tok: AccessToken) -> TestUser:
    """The test user a user token belongs to."""
    return USERS_BY_ID[tok.open_id or ""]


@bp.get("/v2/user/info/")
def user_info() -> Response:
    """User info: only the requested fields, each checked against its scope (§4)."""
    tok = authenticate("user_info")
    if isinstance(tok, Response):
        return tok
    fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
    if not fields:
        return api_error("invalid_params", "fields is required.", 400)  # §4: fields required
    unknown = [f for f in fields if f not in FIELD_SCOPES]
    if unknown:
        return api_error("invalid_params", f"Invalid fields: {','.join(unknown)}", 400)
    if any(FIELD_SCOPES[f] not in tok.scopes for f in fields):
        return scope_error()
    profile = user_of(tok).profile(media_base())
    return envelope({"user": {f: profile[f] for f in fields}})  # §4: only requested fields


@bp.post("/v2/post/publish/creator_info/query/")
def creator_info() -> Response:
    """Creator info (§5.1); banned and capped creators get HTTP 200 with an error code."""
    tok = authenticate("creator_info", "video.publish")
    if isinstance(tok, Response):
        return tok
    svc = current_app.extensions["sandbox"]
    user = user_of(tok)
    refusal = svc.posts.posting_refusal(user)
    if refusal is not None:
        # §5.1: these refusals come with HTTP 200 "intentionally"; the UI must stop.
        resp = api_error(refusal[0], refusal[1], 200)
        resp.status_code = 200
        return resp
    data = user.creator_info(media_base())
    if svc.config.creator_can_post:  # §5.1 [OBS]: undocumented, read by some clients
        data["creator_can_post"] = True
    return envelope(data)


__all__ = ["authenticate", "bp", "invalid_param", "scope_error", "user_of"]
