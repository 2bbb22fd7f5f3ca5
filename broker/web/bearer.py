"""Bearer authentication: who is calling, resolved once per request and tied to live state.

`identify` runs before every request, ahead of the rate limiter. On a route whose contract
declares bearer or service-key security it resolves the credential and records the principal or
the refusal with `broker.web.caller`. Three credentials, one header:

- a login's JWT: signature and claims, and its session has not ended;
- a service key (`tbsk_...`): live, holding the route's scope; on `/api/*` it acts for the account
  named in `Broker-Account` (broker.accounts.acting);
- a JWT minted for an app user (`POST /service/user-tokens`): its key still live, and
  `Broker-Account` one of that user's accounts.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request

from broker.accounts.acting import ACCOUNT_HEADER, UnknownAccount, is_app_user_token
from broker.accounts.keys import PREFIX as SERVICE_KEY_PREFIX
from broker.auth.gate import Passage
from broker.auth.jwts import Principal
from broker.errors import BrokerError, InvalidToken, RateLimited, Unauthenticated
from broker.services import services
from broker.web.caller import remember
from broker.web.contract import AUTHENTICATED, SERVICE_KEY, operation_of
from broker.web.headers import request_header


def identify() -> None:
    """Before each request: resolve the caller of an authenticated route, once."""
    view = current_app.view_functions.get(request.endpoint or "")
    operation = operation_of(view) if view is not None else None
    if operation is None or operation.security not in AUTHENTICATED:
        return
    try:
        principal, passage = authenticate(request_header("Authorization") or "",
                                          service_route=operation.security == SERVICE_KEY,
                                          cached=operation.cached)
    except BrokerError as refusal:
        remember(refusal=refusal)
        return
    if passage is not None and passage.wait_seconds:
        raise RateLimited(f"Too many requests; try again in {passage.wait_seconds} s.",
                          headers={"Retry-After": str(passage.wait_seconds)})
    remember(principal, cached=passage.cached if passage else None, counted=passage is not None)


def authenticate(header: str, *, service_route: bool = False,
                 cached: Callable[[Principal], tuple[str, str] | None] | None = None,
                 ) -> tuple[Principal, Passage | None]:
    """Verify an `Authorization: Bearer <credential>` header against live state.

    A login's JWT goes through broker.auth.gate: its session, its API rate windows and the
    route's cached answer (`cached`) in one Redis round trip (the Passage).
    """
    if not header:
        raise Unauthenticated()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Send the token as 'Authorization: Bearer <token>'.")
    svc, endpoint = services(), request.endpoint or ""
    account = request_header(ACCOUNT_HEADER) or None
    if token.startswith(SERVICE_KEY_PREFIX):
        return svc.acting.for_key(svc.service_keys.verify(token), endpoint, account), None
    if service_route:
        raise InvalidToken("This route takes a service key (Bearer tbsk_...).")
    principal = svc.jwts.verify(token)
    if is_app_user_token(principal):
        return svc.acting.for_app_user(principal, endpoint, account), None
    if account is not None and account != principal.open_id:
        raise UnknownAccount("A login acts only for its own account.")
    passage = svc.gate.enter(principal, count=request.path.startswith("/api/"),
                             cached=_slot(cached, principal))
    if not passage.alive:
        raise InvalidToken("The session has ended; sign in again.")
    return principal, passage


def _slot(cached: Callable[[Principal], tuple[str, str] | None] | None,
          principal: Principal) -> tuple[str, str] | None:
    """Where the route's cached answer for this caller is; None when it has none to offer
    (including a request the route itself will refuse, such as an unknown field)."""
    if cached is None:
        return None
    try:
        return cached(principal)
    except BrokerError:
        return None
