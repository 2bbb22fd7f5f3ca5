"""Bearer authentication: the broker's JWT, verified once per request and tied to a live session.

`identify` runs before every request, ahead of the rate limiter. On a route whose contract
declares bearer security it verifies the JWT (signature and claims) and that its session has not
ended, and records the principal or the refusal with `broker.web.caller`.
"""

from __future__ import annotations

from flask import current_app, request

from broker.auth.jwts import Principal
from broker.errors import BrokerError, InvalidToken, Unauthenticated
from broker.services import services
from broker.web.caller import remember
from broker.web.contract import BEARER, operation_of


def identify() -> None:
    """Before each request: resolve the caller of a bearer route, once."""
    view = current_app.view_functions.get(request.endpoint or "")
    operation = operation_of(view) if view is not None else None
    if operation is None or operation.security != BEARER:
        return
    try:
        remember(principal=authenticate(request.headers.get("Authorization", "")))
    except BrokerError as refusal:
        remember(refusal=refusal)


def authenticate(header: str) -> Principal:
    """Verify an `Authorization: Bearer <jwt>` header and that its session has not ended."""
    if not header:
        raise Unauthenticated()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Send the token as 'Authorization: Bearer <token>'.")
    svc = services()
    principal = svc.jwts.verify(token)
    if not svc.sessions.is_active(principal.session_id):
        raise InvalidToken("The session has ended; sign in again.")
    return principal
