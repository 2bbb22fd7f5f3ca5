"""The request's caller, resolved once per request and read by every later step.

oauth2-proxy's request scope: `broker.web.bearer.identify` runs before the rate limiter and puts
the verified principal, or the reason it was refused, on `g`; the limiter keys on it and the
route's contract (`@documented(security=BEARER)`) answers the refusal. Nothing verifies twice.
"""

from __future__ import annotations

from flask import g

from broker.auth.jwts import Principal
from broker.errors import BrokerError, Unauthenticated


def remember(principal: Principal | None = None, refusal: BrokerError | None = None, *,
             cached: str | None = None, counted: bool = False) -> None:
    """Record who is calling (or why they are refused) for the rest of this request, with
    the answer broker.auth.gate read for the route and whether it counted the API rate limit."""
    g.principal, g.refusal, g.cached_answer, g.api_counted = principal, refusal, cached, counted


def cached_answer() -> str | None:
    """The route's cached answer (JSON), read in the round trip that checked the session."""
    answer: str | None = g.get("cached_answer")
    return answer


def api_counted() -> bool:
    """Whether this call was already counted against the caller's API rate limit."""
    return bool(g.get("api_counted"))


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
