"""Login, callback, handoff, refresh and logout: the SPA's whole relationship with the broker."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, jsonify, request

from broker import cookies
from broker.bearer import current_principal
from broker.contract import (
    BEARER,
    REFRESH_COOKIE,
    Reply,
    body_of,
    documented,
    query_of,
)
from broker.errors import (
    BadRequest,
    BrokerError,
    Forbidden,
    InvalidToken,
    Unauthenticated,
    error_response,
)
from broker.metrics import count_login
from broker.profiles import fields_for
from broker.redirects import fragment_redirect, resolve_return_target
from broker.schemas import (
    CallbackQuery,
    LoginCodeRequest,
    LoginQuery,
    LogoutQuery,
    TokenResponse,
)
from broker.services import Services, services
from broker.sessions import RefreshReuse, Session
from broker.tiktok.errors import TikTokOAuthError
from broker.transactions import OAuthTransaction, StateError

log = logging.getLogger(__name__)
REVOKE_ATTEMPTS = 3


def auth_blueprint(callback_path: str) -> Blueprint:
    """The auth routes; the callback lives at the path of TIKTOK_REDIRECT_URI."""
    bp = Blueprint("auth", __name__)
    bp.add_url_rule("/login", view_func=login, methods=["GET"])
    bp.add_url_rule(callback_path, "callback", view_func=callback, methods=["GET"])
    bp.add_url_rule("/auth/session", view_func=exchange_login_code, methods=["POST"])
    bp.add_url_rule("/auth/refresh", view_func=refresh, methods=["POST"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
    return bp


LOGIN_COOKIE_SET = {"Set-Cookie": "broker_login: binds the OAuth transaction to this browser."}
TOKEN = Reply("A new broker JWT.", TokenResponse)


@documented("Start a login: 302 to TikTok's consent page.", query=LoginQuery, tag="auth",
            errors=(429, 503), responses={302: Reply("To TikTok's consent page.", headers={
                "Location": "TikTok's authorization URL.", **LOGIN_COOKIE_SET})})
def login() -> Response:
    """Start an OAuth transaction and send the browser to TikTok's consent page."""
    svc, query = services(), query_of(LoginQuery)
    return_to = resolve_return_target(query.redirect_to, svc.settings)
    extra = tuple(s for s in (query.scope or "").replace(" ", ",").split(",") if s)
    if any(not s.replace(".", "").replace("_", "").isalnum() or len(s) > 64 for s in extra):
        raise BadRequest("scope must be a comma-separated list of TikTok scopes.",
                         code="invalid_scope")
    authorization = svc.tiktok.authorization_request(extra)
    binding = cookies.login_binding(request)
    svc.transactions.begin(authorization.state, binding,
                           OAuthTransaction(return_to, authorization.code_verifier))
    response = Response(status=302, headers={"Location": authorization.url})
    cookies.set_login_cookie(response, binding, svc.settings)
    return response


@documented("TikTok's redirect back: finish the login and 302 to the SPA.", query=CallbackQuery,
            tag="auth", errors=(429, 503), responses={302: Reply(
                "To the SPA, with #access_token=...&token_type=Bearer&expires_in=... (or "
                "#login_code=..., or #error=...&error_description=...) in the fragment.",
                headers={"Location": "The SPA URL with the fragment.",
                         "Set-Cookie": "broker_refresh (HttpOnly, Path=/auth) on success."})})
def callback() -> Response:
    """TikTok's redirect: check state first, then finish the login and return to the SPA."""
    svc = services()
    try:
        transaction = svc.transactions.consume(query_of(CallbackQuery).state or "",
                                               request.cookies.get(cookies.LOGIN_COOKIE, ""))
    except StateError as exc:
        count_login("invalid_state")
        raise BadRequest(exc.description, code="invalid_state") from exc
    try:
        response = _complete_login(svc, transaction)
        count_login("completed")
    except BrokerError as exc:
        count_login("declined" if exc.code == "access_denied" else "failed")
        # The user is mid-navigation: every failure from here on goes back to the SPA.
        response = fragment_redirect(transaction.return_to, {
            "error": exc.code, "error_description": exc.description})
    cookies.clear_login_cookie(response, svc.settings)
    return response


def _complete_login(svc: Services, transaction: OAuthTransaction) -> Response:
    query = query_of(CallbackQuery)
    error = query.error
    if error:
        if error == "access_denied":
            raise BrokerError("The TikTok login was declined.", code="access_denied")
        raise BrokerError("TikTok could not complete the login.", code="tiktok_error")
    code = query.code or ""
    if not code:
        raise BrokerError("TikTok sent no authorization code.", code="invalid_request")
    try:
        grant = svc.tiktok.exchange_code(code, transaction.code_verifier)
    except TikTokOAuthError as exc:
        log.info("code exchange refused by TikTok: %s", exc.error)
        raise BrokerError("TikTok did not accept the login; please try again.",
                          code="login_failed", tiktok_log_id=exc.tiktok_log_id) from exc
    if not grant.scopes:  # TikTok lists granted scopes on the callback as `scopes` (§1.3)
        granted = tuple(s for s in (query.scopes or "").split(",") if s)
        grant = type(grant)(**{**grant.__dict__, "scopes": granted or svc.settings.scopes})
    svc.grants.store.save(grant)
    try:
        svc.profiles.get(grant.open_id, fields_for(grant.scopes, None))
    except BrokerError as exc:
        log.warning("profile prefetch failed after login: %s", exc.code)
    ttl = svc.settings.session_ttl
    if grant.refresh_expires_at:  # a session never outlives TikTok's refresh token
        ttl = max(min(ttl, int(grant.refresh_expires_at - svc.clock.now())), 1)
    session, refresh_cookie = svc.sessions.create(grant.open_id, grant.scopes, ttl)
    log.info("login completed", extra={"open_id": grant.open_id, "sid": session.session_id})
    if svc.settings.token_delivery == "handoff":  # noqa: S105 (a mode name)
        code = svc.sessions.issue_login_code(session.session_id, svc.settings.login_code_ttl)
        response = fragment_redirect(transaction.return_to, {"login_code": code})
    else:
        response = fragment_redirect(transaction.return_to, _token_fields(svc, session))
    cookies.set_refresh_cookie(response, refresh_cookie, ttl, svc.settings)
    return response


@documented("Handoff delivery: trade a one-time login code for a JWT.", body=LoginCodeRequest,
            tag="auth", errors=(429, 503), responses={200: TOKEN})
def exchange_login_code() -> Response:
    """Handoff delivery: a one-time login code (60 s) for the JWT."""
    svc = services()
    session = svc.sessions.redeem_login_code(body_of(LoginCodeRequest).login_code)
    if session is None:
        raise BadRequest("The login code is unknown, expired or already used.",
                         code="invalid_grant")
    return _token_response(svc, session)


@documented("A new JWT for the refresh cookie, which rotates.", security=REFRESH_COOKIE,
            headers={"Origin": "One of SPA_ORIGINS."}, tag="auth", errors=(401, 403, 429, 503),
            responses={200: Reply("A new broker JWT; the cookie is rotated.", TokenResponse,
                                  headers={"Set-Cookie": "The rotated broker_refresh."})})
def refresh() -> Response:
    """A new JWT for the refresh cookie, which is rotated; reuse of an old one ends the session."""
    svc = services()
    origin = request.headers.get("Origin", "").rstrip("/").lower()
    if origin not in svc.settings.spa_origins:
        raise Forbidden("Refresh is only allowed from the SPA's origin.", code="origin_not_allowed")
    cookie = request.cookies.get(cookies.REFRESH_COOKIE)
    if not cookie:
        raise Unauthenticated("No refresh cookie; sign in first.")
    try:
        rotated = svc.sessions.rotate(cookie)
    except RefreshReuse:
        log.warning("refresh cookie reused; session ended")
        rotated = None
    if rotated is None:
        response = error_response(InvalidToken("The session has ended; sign in again."))
        cookies.clear_refresh_cookie(response, svc.settings)
        return response
    session, new_cookie = rotated
    response = _token_response(svc, session)
    cookies.set_refresh_cookie(response, new_cookie, svc.sessions.remaining(session.session_id),
                               svc.settings)
    return response


@documented("End this session now (revoke=true: also at TikTok, and every session).",
            security=BEARER, query=LogoutQuery, tag="auth", errors=(503,),
            responses={204: Reply("Logged out; the refresh cookie is cleared.")})
def logout() -> Response:
    """End this session now; with ?revoke=true also revoke at TikTok and end all sessions."""
    svc, principal = services(), current_principal()
    if query_of(LogoutQuery).revoke in ("true", "1"):
        grant = svc.grants.store.load(principal.open_id)
        svc.forget_user(principal.open_id)  # local state goes first, whatever TikTok says
        if grant is not None:
            _revoke_at_tiktok(svc, grant.access_token)
    else:
        svc.sessions.end(principal.session_id)
        if not svc.sessions.any_active(principal.open_id):
            svc.forget_user(principal.open_id)  # nobody is left to use the TikTok tokens
    response = Response(status=204)
    cookies.clear_refresh_cookie(response, svc.settings)
    return response


def _revoke_at_tiktok(svc: Services, access_token: str) -> None:
    for attempt in range(1, REVOKE_ATTEMPTS + 1):
        try:
            svc.tiktok.revoke(access_token)
            return
        except TikTokOAuthError as exc:
            log.warning("TikTok refused the revoke (%s); not retrying", exc.error)
            return
        except BrokerError as exc:
            log.warning("TikTok revoke failed (attempt %d of %d): %s", attempt,
                        REVOKE_ATTEMPTS, exc.code)
            if attempt < REVOKE_ATTEMPTS:
                time.sleep(0.2 * 2 ** attempt)


def _token_fields(svc: Services, session: Session) -> dict[str, str]:
    token = svc.jwts.issue(session.open_id, session.session_id, session.scopes)
    return {"access_token": token, "token_type": "Bearer", "expires_in": str(svc.jwts.ttl)}


def _token_response(svc: Services, session: Session) -> Response:
    fields = _token_fields(svc, session)
    response = jsonify({**fields, "expires_in": svc.jwts.ttl})
    response.headers["Cache-Control"] = "no-store"
    return response
