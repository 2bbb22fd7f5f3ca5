"""The app backend's service API (blueprint "service"): connect links, connected accounts,
JWTs for app users, and TikTok tokens where allowed. Every route but the connect link itself
takes a service key (`Authorization: Bearer tbsk_...`)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, request

from broker.accounts.acting import USER_TOKEN_SCOPES
from broker.accounts.connect import ConnectSession
from broker.accounts.manage import check_app_user_id
from broker.accounts.schemas import (
    AccountList,
    ConnectQuery,
    ConnectSessionCreated,
    ConnectSessionRequest,
    TikTokToken,
    UnlinkQuery,
    UserTokenRequest,
)
from broker.auth import cookies
from broker.auth.redirects import resolve_return_target
from broker.config.urls import origin_of
from broker.errors import BadRequest
from broker.schemas import TokenResponse
from broker.services import services
from broker.web.caller import current_principal
from broker.web.contract import (
    SERVICE_KEY,
    TIKTOK_ERRORS,
    Reply,
    body_of,
    documented,
    query_of,
    reply,
)

bp = Blueprint("service", __name__, url_prefix="/service")
APP_USER = {"app_user_id": {"type": "string", "pattern": r"^[\x21-\x7e]{1,128}$"}}
ACCOUNT = {"account_id": {"type": "string", "minLength": 1, "maxLength": 128}}


@bp.post("/connect-sessions")
@documented(security=SERVICE_KEY, body=ConnectSessionRequest, errors=(429, 503),
            responses={201: Reply("A one-time connect link.", ConnectSessionCreated)})
def create_connect_session() -> Response:
    """A one-time link that connects a TikTok account to an app user.

    Send the user's browser to `connect_url`: TikTok's consent page (always with its account
    choice), then back to `return_to` with `#connected=<account_id>` or `#error=<code>`.
    """
    svc, body = services(), body_of(ConnectSessionRequest)
    try:
        return_to = resolve_return_target(body.return_to, svc.settings)
    except BadRequest as exc:
        raise BadRequest("return_to must be a path or a URL on an allowed SPA origin.",
                         code="invalid_return_to") from exc
    extra = tuple(s for s in (body.scope or "").replace(" ", ",").split(",") if s)
    if any(not s.replace(".", "").replace("_", "").isalnum() or len(s) > 64 for s in extra):
        raise BadRequest("scope must be a comma-separated list of TikTok scopes.",
                         code="invalid_scope")
    link = svc.connector.create(ConnectSession(
        body.app_user_id, return_to, extra, current_principal().holder.removeprefix("key:")))
    url = (origin_of(svc.settings.redirect_uri) + "/service/connect?"
           + urlencode({"connect_token": link.token}))
    return reply(ConnectSessionCreated(connect_url=url, expires_in=link.expires_in), 201)


@bp.get("/connect")
@documented(query=ConnectQuery, errors=(400, 429, 503), responses={302: Reply(
    "To TikTok's consent page.", headers={"Location": "TikTok's authorization URL.",
                                          "Set-Cookie": "broker_login: binds the connect to "
                                                        "this browser."})})
def connect() -> Response:
    """Open a connect link (in the user's browser): 302 to TikTok's consent page.

    The link works once; the rest of the flow is bound to the browser that opened it.
    """
    svc = services()
    binding = cookies.login_binding(request, svc.settings)
    started = svc.connector.open(query_of(ConnectQuery).connect_token or "", binding)
    response = Response(status=302, headers={"Location": started.url})
    cookies.set_login_cookie(response, binding, svc.settings)
    return response


@bp.get("/users/<path:app_user_id>/accounts")
@documented(security=SERVICE_KEY, path=APP_USER, errors=(400, 429, 503),
            responses={200: Reply("The app user's connected accounts.", AccountList)})
def list_accounts(app_user_id: str) -> Response:
    """The TikTok accounts an app user has connected, oldest first."""
    return reply(AccountList.model_validate(
        {"accounts": services().accounts.listing(app_user_id)}))


@bp.delete("/users/<path:app_user_id>/accounts/<account_id>")
@documented(security=SERVICE_KEY, path={**APP_USER, **ACCOUNT}, query=UnlinkQuery,
            errors=(404, 429, 503), responses={204: Reply("Unlinked.")})
def unlink_account(app_user_id: str, account_id: str) -> Response:
    """Unlink an account from an app user (revoke=true: also at TikTok, once nothing holds it).

    TikTok's tokens are deleted once no app user and no login session holds the account.
    """
    services().accounts.unlink(app_user_id, account_id,
                               revoke=query_of(UnlinkQuery).revoke in ("true", "1"))
    return Response(status=204)


@bp.post("/user-tokens")
@documented(security=SERVICE_KEY, body=UserTokenRequest, errors=(429, 503),
            responses={200: Reply("A broker JWT for the app user.", TokenResponse)})
def mint_user_token() -> Response:
    """A broker JWT for an app user, so their SPA can call `/api/*` with `Broker-Account`.

    It acts only for that user's accounts, with the minting key's `/api` scopes, and is refused
    once the key is revoked.
    """
    principal = current_principal()
    permissions = principal.permissions or frozenset()
    token = services().accounts.user_token(
        check_app_user_id(body_of(UserTokenRequest).app_user_id),
        principal.holder.removeprefix("key:"), permissions, USER_TOKEN_SCOPES)
    return reply(TokenResponse.model_validate(token))


@bp.post("/accounts/<account_id>/token")
@documented(security=SERVICE_KEY, path=ACCOUNT, errors=(404, *TIKTOK_ERRORS),
            responses={200: Reply("TikTok's access token for the account.", TikTokToken)})
def issue_tiktok_token(account_id: str) -> Response:
    """TikTok's own access token for an account (off unless SERVICE_TOKEN_ISSUE=true).

    Refreshed first when near expiry. Every hand-out is logged.
    """
    holder = current_principal().holder
    return reply(TikTokToken.model_validate(
        services().accounts.tiktok_token(account_id, holder.removeprefix("key:"))))
