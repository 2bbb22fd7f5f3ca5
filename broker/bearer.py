"""Bearer authentication for the API: the broker's JWT, checked and tied to a live session."""

from __future__ import annotations

from flask import g, request

from broker.errors import InvalidToken, Unauthenticated
from broker.jwts import Principal
from broker.services import services


def verified_jwt() -> Principal:
    """The request's bearer JWT, verified (signature and claims) once per request."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthenticated()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Send the token as 'Authorization: Bearer <token>'.")
    cached: tuple[str, Principal] | None = g.get("_verified_jwt")
    if cached is not None and cached[0] == token:
        return cached[1]  # the rate limiter's key already verified it
    principal = services().jwts.verify(token)
    g._verified_jwt = (token, principal)
    return principal


def authenticate() -> Principal:
    """Verify the request's bearer JWT and that its session has not ended."""
    principal = verified_jwt()
    if not services().sessions.is_active(principal.session_id):
        raise InvalidToken("The session has ended; sign in again.")
    return principal


def current_principal() -> Principal:
    """The principal the route's contract (`broker.contract.documented`) verified."""
    principal: Principal = g.principal
    return principal
