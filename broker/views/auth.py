"""Login, callback, handoff, refresh and logout: the SPA's whole relationship with the broker."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from broker.auth import cookies
from broker.auth.redirects import fragment_redirect, resolve_return_target
from broker.auth.sessions import RefreshReuse, Session
from broker.auth.transactions import OAuthTransaction, StateError
from broker.errors import (
    BadRequest,
    BrokerError,
    Forbidden,
    InvalidToken,
    Unauthenticated,
    error_response,
)
from broker.schemas import (
    CallbackQuery,
    LoginCodeRequest,
    LoginQuery,
    LogoutQuery,
    TokenResponse,
)
from broker.services import services
from broker.web.caller import current_principal
from broker.web.contract import (
    BEARER,
    REFRESH_COOKIE,
    Reply,
    body_of,
    documented,
    query_of,
)
from broker.web.metrics import count_login

log = logging.getLogger(__name__)


def auth_blueprint(callback_path: str) -> Blueprint:
    """The auth routes; the callback lives at the path of TIKTOK_REDIRECT_URI."""
    bp = Blueprint("auth", __name__)
    bp.add_url_rule("/login", view_func=login, methods=["GET"])
    bp.add_url_rule(callback_path, "callback", view_func=callback, methods=["GET"])
    bp.add_url_rule("/auth/session", view_func=exchange_login_code, methods=["POST"])
    bp.add_url_rule("/auth/refresh", view_func=refresh, methods=["POST"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
    return bp


LOGIN_COOKIE_SET = {"Set-Cookie": "broker_login (`__Host-broker_login` on https): binds OAuth "
                                   "transactions to this browser."}
TOKEN = Reply("A new broker JWT.", TokenResponse)


@documented(query=LoginQuery, tag="auth", errors=(429, 503), responses={302: Reply(
    "To TikTok's consent page.", headers={"Location": "TikTok's authorization URL.",
                                          **LOGIN_COOKIE_SET})})
def login() -> Response:
    """Start a login: 302 to TikTok's consent page.

    Starts an OAuth transaction bound to this browser and sends it to TikTok.
    """
    svc, query = services(), query_of(LoginQuery)
    return_to = resolve_return_target(query.redirect_to, svc.settings)
    extra = tuple(s for s in (query.scope or "").replace(" ", ",").split(",") if s)
    if any(not s.replace(".", "").replace("_", "").isalnum() or len(s) > 64 for s in extra):
        raise BadRequest("scope must be a comma-separated list of TikTok scopes.",
                         code="invalid_scope")
    binding = cookies.login_binding(request, svc.settings)
    started = svc.login.start(return_to, extra, binding, query.nonce)
    response = Response(status=302, headers={"Location": started.url})
    cookies.set_login_cookie(response, binding, svc.settings)
    return response


@documented(query=CallbackQuery, tag="auth", errors=(429, 503), responses={302: Reply(
    "To the SPA, with #access_token=...&token_type=Bearer&expires_in=... (or #login_code=..., "
    "or #error=...&error_description=...) in the fragment.",
    headers={"Location": "The SPA URL with the fragment.",
             "Set-Cookie": "broker_refresh (HttpOnly, Path=/auth; `__Host-broker_refresh`, "
                           "Path=/ on https) on success."})})
def callback() -> Response:
    """TikTok's redirect back: finish the login and 302 to the SPA.

    The state is checked first, before any call to TikTok.
    """
    svc, query = services(), query_of(CallbackQuery)
    state = query.state or ""
    try:
        transaction = svc.login.resume(state, cookies.presented_binding(request, svc.settings))
    except StateError as exc:
        count_login("invalid_state")
        raise BadRequest(exc.description, code="invalid_state") from exc
    if transaction.app_user_id is not None:
        return _connected(transaction, query)
    echo = {"nonce": transaction.nonce} if transaction.nonce else {}
    try:
        done = svc.login.finish(transaction, code=query.code, error=query.error,
                                granted=query.scopes,
                                previous_cookie=cookies.refresh_cookie(request, svc.settings))
        response = fragment_redirect(transaction.return_to, done.fragment)
        cookies.set_refresh_cookie(response, done.refresh_cookie, done.cookie_ttl, svc.settings)
        count_login("completed")
    except BrokerError as exc:
        count_login("declined" if exc.code == "access_denied" else "failed")
        # The user is mid-navigation: every failure from here on goes back to the SPA.
        response = fragment_redirect(transaction.return_to, {
            "error": exc.code, "error_description": exc.description, **echo})
    # The binding stays: a login started in another tab may still come back with it.
    return response


@documented(body=LoginCodeRequest, security=REFRESH_COOKIE, tag="auth", errors=(429, 503),
            responses={200: TOKEN})
def exchange_login_code() -> Response:
    """Handoff delivery: trade a one-time login code for a JWT.

    The code lives 60 seconds, works once, and only in the browser that finished the login
    (the one holding that login's refresh cookie): a code in a link signs nobody else in.
    """
    svc = services()
    session = svc.login.redeem(body_of(LoginCodeRequest).login_code,
                               cookies.refresh_cookie(request, svc.settings))
    if session is None:
        raise BadRequest("The login code is unknown, expired, already used, or from a login "
                         "this browser did not finish.", code="invalid_grant")
    return _token_response(session)


@documented(security=REFRESH_COOKIE, headers={"Origin": "One of SPA_ORIGINS."}, tag="auth",
            errors=(401, 403, 429, 503),
            responses={200: Reply("A new broker JWT; the cookie is rotated.", TokenResponse,
                                  headers={"Set-Cookie": "The rotated broker_refresh."})})
def refresh() -> Response:
    """A new JWT for the refresh cookie, which rotates.

    Presenting a cookie that was already rotated ends the session (it was copied).
    """
    svc = services()
    origin = request.headers.get("Origin", "").rstrip("/").lower()
    if origin not in svc.settings.spa_origins:
        raise Forbidden("Refresh is only allowed from the SPA's origin.", code="origin_not_allowed")
    cookie = cookies.refresh_cookie(request, svc.settings)
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
    response = _token_response(rotated.session)
    cookies.set_refresh_cookie(response, rotated.cookie, rotated.remaining, svc.settings)
    return response


@documented(security=BEARER, query=LogoutQuery, tag="auth", errors=(503,),
            responses={204: Reply("Logged out; the refresh cookie is cleared.")})
def logout() -> Response:
    """End this session now (revoke=true: also at TikTok, and every session)."""
    svc = services()
    svc.login.sign_out(current_principal(),
                       revoke=query_of(LogoutQuery).revoke in ("true", "1"))
    response = Response(status=204)
    cookies.clear_refresh_cookie(response, svc.settings)
    return response


def _connected(transaction: OAuthTransaction, query: CallbackQuery) -> Response:
    """A connect's callback (broker.accounts): the account is linked to the app user; the
    browser goes back to the app with `#connected=<account_id>`, or `#error=<code>`."""
    try:
        account_id = services().connector.finish(transaction, code=query.code, error=query.error,
                                                 granted=query.scopes)
    except BrokerError as exc:
        return fragment_redirect(transaction.return_to, {
            "error": exc.code, "error_description": exc.description})
    return fragment_redirect(transaction.return_to, {"connected": account_id})


def _token_response(session: Session) -> Response:
    svc = services()
    response = jsonify({**svc.login.token_fields(session), "expires_in": svc.jwts.ttl})
    response.headers["Cache-Control"] = "no-store"
    return response
