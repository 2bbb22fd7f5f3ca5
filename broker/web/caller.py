"""The request's caller, resolved once per request and read by every later step.

oauth2-proxy's request scope: `broker.web.bearer.identify` runs before the rate limiter and puts
the verified principal, or the reason it was refused, on `g`; the limiter keys on it and the
route's contract (`@documented(security=BEARER)`) answers the refusal. Nothing verifies twice.
"""

from __future__ import annotations

from flask import g

from broker.auth.jwts import Principal
from broker.errors import BrokerError, Unauthenticated


def remember(principal: Principal | None = None, refusal: BrokerError | None = None) -> None:
    """Record who is calling (or why they are refused) for the rest of this request."""
    g.principal, g.refusal = principal, refusal


def identified() -> Principal | None:
    """The verified principal, or None (anonymous, refused, or a route without bearer auth)."""
    principal: Principal | None = g.get("principal")
    return principal


def current_principal() -> Principal:
    """The verified principal of a bearer route; raises the refusal `identify` recorded."""
    principal = identified()
    if principal is not None:
        return principal
    refusal: BrokerError | None = g.get("refusal")
    raise refusal if refusal is not None else Unauthenticated()
