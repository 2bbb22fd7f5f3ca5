"""Bearer authentication for the API: the broker's JWT, checked and tied to a live session."""

from __future__ import annotations

from flask import g, request

from broker.errors import InvalidToken, Unauthenticated
from broker.jwts import Principal
from broker.services import services


def authenticate() -> Principal:
    """Verify the request's bearer JWT and that its session has not ended."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthenticated()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Send the token as 'Authorization: Bearer <token>'.")
    svc = services()
    principal = svc.jwts.verify(token.strip())
    if not svc.sessions.is_active(principal.session_id):
        raise InvalidToken("The session has ended; sign in again.")
    return principal


def current_principal() -> Principal:
    """The principal the route's contract (`broker.contract.documented`) verified."""
    principal: Principal = g.principal
    return principal
