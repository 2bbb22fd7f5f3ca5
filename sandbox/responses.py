"""The two response shapes TikTok uses: flat OAuth errors (§2.5) and the v2 envelope (§0, §4)."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from flask import Response, current_app, jsonify, render_template


def log_id() -> str:
    """A TikTok-looking log id: UTC timestamp followed by random hex (§2.5 example)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(9).upper()


def _cfg() -> Any:
    return current_app.extensions["sandbox"].config


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """Flat OAuth error `{error, error_description, log_id}` (§2.5); HTTP 200 if switched on."""
    resp = jsonify(error=error, error_description=description, log_id=log_id())
    # §2.5 [OBS]: several clients see the token endpoint answer errors with HTTP 200.
    resp.status_code = 200 if _cfg().errors_as_200 else status
    return resp


def envelope(data: dict[str, Any] | None = None) -> Response:
    """Successful v2 API response: `{data, error: {code: "ok"}}` (§0)."""
    return jsonify(data=data or {}, error={"code": "ok", "message": "", "log_id": log_id()})


def api_error(code: str, message: str, status: int) -> Response:
    """Failed v2 API response; `error` always present, `data` optional by switch (§4 [OBS])."""
    cfg = _cfg()
    body: dict[str, Any] = {"error": {"code": code, "message": message, "log_id": log_id()}}
    if cfg.error_data:
        body = {"data": {}, **body}
    resp = jsonify(body)
    # §4 [OBS]: some clients see HTTP 200 with a non-ok error.code on v2 APIs.
    resp.status_code = 200 if cfg.api_errors_as_200 and status != 429 else status
    return resp


def invalid_param(message: str) -> Response:
    """400 invalid_param; singular in §5.2, plural in the generic list (§4) [CONFLICT]."""
    return api_error(_cfg().invalid_param_code, message, 400)


def html_error(param: str, status: int = 400) -> Response:
    """TikTok's own error page for a bad authorize request; it never redirects (§1.3 [OBS])."""
    resp = Response(render_template("error.html", param=param), status=status)
    resp.mimetype = "text/html"
    return resp
