"""Bearer authentication for the API: the broker's JWT, checked and tied to a live session."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, request

from broker.errors import InvalidToken, Unauthenticated
from broker.jwts import Principal
from broker.services import services

P = ParamSpec("P")
R = TypeVar("R")


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


def require_bearer(view: Callable[P, R]) -> Callable[P, R]:
    """Decorator: the view runs only for a valid JWT; the principal is in `current_principal()`."""
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        g.principal = authenticate()
        return view(*args, **kwargs)
    return wrapper


def current_principal() -> Principal:
    """The principal `require_bearer` verified for this request."""
    principal: Principal = g.principal
    return principal
