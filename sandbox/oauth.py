"""Token and revoke endpoints (§2, §3): form bodies in, flat JSON out."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from .authorize import HEX_CHALLENGE
from .responses import oauth_error
from .store import Issued

bp = Blueprint("oauth", __name__)

VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
PKCE_INVALID = "Code verifier or code challenge is invalid."  # §2.5 [OBS] wording


def _client_problem() -> Response | None:
    """Check client_key / client_secret in the body (§2: never HTTP Basic)."""
    cfg = current_app.extensions["sandbox"].config
    form = request.form
    if "client_id" in form and "client_key" not in form:
        # §0: TikTok names the app client_key; client_id is simply a missing parameter.
        return oauth_error("invalid_request", "client_key is missed in request.")
    if not form.get("client_key"):
        return oauth_error("invalid_request", "client_key is missed in request.")
    if not form.get("client_secret"):
        return oauth_error("invalid_request", "Client secret is missed in request.")  # §2.5
    if form["client_key"] != cfg.client_key or not hmac.compare_digest(
        form["client_secret"].encode(), cfg.client_secret.encode()
    ):
        return oauth_error("invalid_client", "Client key or secret is invalid.", 401)
    return None


def verifier_matches(verifier: str, challenge: str, accept_b64: bool) -> bool:
    """Check a PKCE verifier against the stored challenge; hex S256 per §1.2."""
    if not 43 <= len(verifier) <= 128 or not set(verifier) <= VERIFIER_CHARS:
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    if HEX_CHALLENGE.match(challenge):
        return hmac.compare_digest(digest.hex(), challenge.lower())
    if accept_b64:
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return hmac.compare_digest(b64, challenge)
    return False


def _token_body(issued: Issued) -> dict[str, Any]:
    svc = current_app.extensions["sandbox"]
    now = svc.clock.now()
    acc = issued.access
    body: dict[str, Any] = {
        "access_token": acc.token,
        "expires_in": round(acc.expires_at - now),
        "open_id": acc.open_id,
        "scope": ",".join(acc.scopes),  # §2.1: the granted set, comma-separated
        "token_type": "Bearer",
    }
    if issued.refresh is not None and not svc.config.omit_refresh_token:
        body["refresh_token"] = issued.refresh.token
        body["refresh_expires_in"] = round(issued.refresh.expires_at - now)
    return body


@bp.post("/v2/oauth/token/")
def token() -> Response:
    """Every grant of §2: authorization_code, refresh_token, client_credentials."""
    g.grant_type = request.form.get("grant_type", "")
    problem = _client_problem()
    if problem is not None:
        return problem
    handler = {"authorization_code": _exchange_code, "refresh_token": _refresh,
               "client_credentials": _client_credentials}.get(g.grant_type)
    if handler is None:
        return oauth_error("unsupported_grant_type", "The grant type is not supported.")
    return handler()


def _exchange_code() -> Response:
    svc = current_app.extensions["sandbox"]
    cfg = svc.config
    form = request.form
    if not form.get("code"):
        return oauth_error("invalid_request", "The request parameters are malformed.")
    code, why = svc.store.take_code(form["code"])
    if code is None:
        return oauth_error("invalid_grant", why)
    g.open_id = code.open_id
    if form.get("redirect_uri") != code.redirect_uri:
        # §1.4: TikTok reports a mismatch as invalid_request, not invalid_grant.
        return oauth_error("invalid_request",
                           "Redirect_uri is not matched with the uri when requesting code.")
    verifier = form.get("code_verifier", "")
    if code.challenge and not verifier_matches(verifier, code.challenge,
                                               cfg.pkce_base64url == "accept"):
        return oauth_error("invalid_request", PKCE_INVALID)
    return jsonify(_token_body(svc.store.grant(code.open_id, code.scopes, cfg)))


def _refresh() -> Response:
    svc = current_app.extensions["sandbox"]
    token = request.form.get("refresh_token", "")
    if not token:
        return oauth_error("invalid_request", "The request parameters are malformed.")
    issued, why = svc.store.use_refresh(token, svc.config)
    if issued is None:
        return oauth_error("invalid_grant", why)
    g.open_id = issued.access.open_id
    return jsonify(_token_body(issued))


def _client_credentials() -> Response:
    svc = current_app.extensions["sandbox"]
    tok = svc.store.client_token(7200)  # §2.3: client tokens last 2 hours
    return jsonify({"access_token": tok.token, "expires_in": 7200, "token_type": "Bearer"})


@bp.post("/v2/oauth/revoke/")
def revoke() -> Response:
    """Revoke a grant by its access token (§3); fires authorization.removed if switched on."""
    problem = _client_problem()
    if problem is not None:
        return problem
    svc = current_app.extensions["sandbox"]
    cfg = svc.config
    token = request.form.get("token", "")
    if not token:
        return oauth_error("invalid_request", "The request parameters are malformed.")
    grant = svc.store.grant_for_revoke(token, allow_refresh=cfg.revoke_with == "any")
    if grant is None:
        return oauth_error("invalid_grant", "Access token is invalid or already revoked.")
    g.open_id = grant.open_id
    # §3: the app disappears from the user's connected apps, so every grant of the user ends.
    svc.store.revoke_user(grant.open_id)
    svc.posts.fail_user(grant.open_id)
    if cfg.revoke_webhook:  # §3 [UNCONFIRMED]: reason 5 = developer revoked authorization
        svc.webhooks.send("authorization.removed", grant.open_id, {"reason": 5})
    # §3: success is an empty body; the 2026 page shows {}.
    if cfg.revoke_body == "empty":
        return Response(b"", status=200, mimetype="application/json")
    return jsonify({})
