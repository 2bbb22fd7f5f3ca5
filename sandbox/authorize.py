"""Login Kit authorize page (§1): validation, the consent form, and the redirect back."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, render_template, request

from .responses import html_error
from .users import KNOWN_SCOPES, USERS, USERS_BY_ID

bp = Blueprint("authorize", __name__)

HEX_CHALLENGE = re.compile(r"^[0-9a-fA-F]{64}$")  # §1.2: hex SHA-256, 64 characters
B64URL_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # RFC 7636 base64url SHA-256
SESSION_COOKIE = "sandbox_tiktok_session"  # the browser's sign-in at "TikTok" (§1.1)
PARAMS = ("client_key", "response_type", "scope", "redirect_uri", "state",
          "code_challenge", "code_challenge_method", "disable_auto_auth")


def validate(params: dict[str, str]) -> str | None:
    """Name the first bad parameter of an authorize request, or None if it is valid."""
    cfg = current_app.extensions["sandbox"].config
    if params.get("client_key") != cfg.client_key:
        return "client_key"  # §0: the app identifier is client_key, never client_id
    if params.get("redirect_uri") not in cfg.redirect_uris:
        return "redirect_uri"  # §1.4: exact string match, trailing slash included
    if params.get("response_type") != "code":
        return "response_type"
    # §1.1: comma-separated; a space-separated list is wrong.
    scopes = params.get("scope", "").split(",")
    if not params.get("scope") or any(s not in KNOWN_SCOPES for s in scopes):
        return "scope"
    # §5.11 [OBS]: a scope the app was not approved for fails the whole authorize request.
    if cfg.approved_scopes and any(s not in cfg.approved_scopes for s in scopes):
        return "scope"
    if cfg.require_state and not params.get("state"):
        return "state"
    challenge = params.get("code_challenge", "")
    if not challenge:
        # §1.2 [CONFLICT]: recent reports of "correct the following: code_challenge".
        return "code_challenge" if cfg.pkce == "required" else None
    if params.get("code_challenge_method") != "S256":
        return "code_challenge_method"  # §1.1: S256 is the only method TikTok supports
    if HEX_CHALLENGE.match(challenge):
        return None
    if cfg.pkce_base64url == "accept" and B64URL_CHALLENGE.match(challenge):
        return None
    return "code_challenge"  # §1.2: hex is the only documented encoding


def _params(source: dict[str, str]) -> dict[str, str]:
    return {k: source[k] for k in PARAMS if k in source}


@bp.get("/v2/auth/authorize/")
def consent_page() -> Response:
    """Show the consent form, or TikTok's HTML error page for an invalid request."""
    params = _params(request.args.to_dict())
    bad = validate(params)
    if bad:
        return html_error(bad)
    signed_in = USERS_BY_ID.get(request.cookies.get(SESSION_COOKIE, ""))
    cfg = current_app.extensions["sandbox"].config
    if cfg.auto_auth and signed_in is not None and params.get("disable_auto_auth") != "1":
        # §1.1 disable_auto_auth=0 (or absent): a signed-in browser is sent straight back, as
        # the account it is signed in with, with every scope asked for
        return _approve(params, signed_in.open_id, tuple(params["scope"].split(",")))
    hidden = [(k, v) for k, v in params.items() if k != "scope"]
    hidden.append(("requested_scope", params["scope"]))
    html = render_template("consent.html", client_key=params["client_key"], action=request.path,
                           hidden=hidden, users=USERS, scopes=params["scope"].split(","))
    return Response(html, mimetype="text/html")


@bp.post("/v2/auth/authorize/")
def decide() -> Response:
    """The consent form's submission: 302 back with code, scopes and state, or access_denied."""
    form = request.form
    params = _params(form.to_dict())
    params["scope"] = form.get("requested_scope", "")
    bad = validate(params)
    if bad:
        return html_error(bad)
    user = USERS_BY_ID.get(form.get("user", ""))
    requested = params["scope"].split(",")
    ticked = form.getlist("scope")
    if user is None:
        return html_error("user")
    if any(s not in requested for s in ticked):
        return html_error("scope")
    state = {"state": params["state"]} if "state" in params else {}
    if form.get("decision") != "approve" or not ticked:
        why = "User denied authorization" if ticked else "User granted no scope"
        query = {"error": "access_denied", "error_description": why, **state}
        return _back(params["redirect_uri"], query)
    granted = tuple(s for s in requested if s in ticked)
    return _approve(params, user.open_id, granted)


def _approve(params: dict[str, str], open_id: str, granted: tuple[str, ...]) -> Response:
    """Issue a code for the user and send the browser back; it stays signed in to "TikTok"."""
    svc = current_app.extensions["sandbox"]
    g.open_id = open_id
    code = svc.store.issue_code(open_id, granted, params["redirect_uri"],
                                params.get("code_challenge", ""), svc.config.code_ttl)
    state = {"state": params["state"]} if "state" in params else {}
    # §1.3: the granted scopes come back as `scopes` (plural), comma-separated.
    response = _back(params["redirect_uri"], {"code": code, "scopes": ",".join(granted),
                                              **state})
    response.set_cookie(SESSION_COOKIE, open_id, httponly=True, samesite="Lax", path="/v2/auth/")
    return response


def _back(redirect_uri: str, query: dict[str, str]) -> Response:
    sep = "&" if "?" in redirect_uri else "?"
    return Response(status=302, headers={"Location": redirect_uri + sep + urlencode(query)})
