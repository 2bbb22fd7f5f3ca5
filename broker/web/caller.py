"""The request's caller, resolved once per request and read by every later step.

oauth2-proxy's request scope: `broker.web.bearer.identify` runs before the rate limiter and puts
the verified principal, or the reason it was refused, on `g`; the limiter keys on it and the
route's contract (`@documented(security=BEARER)`) answers the refusal. Nothing verifies twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from broker.auth.jwts import Principal
from broker.errors import BrokerError, Unauthenticated


@dataclass(frozen=True)
class Caller:
    """Who is calling, as `identify` found: one object on `g` (each `g` access is a context
    lookup, and the hot path reads this several times)."""

    principal: Principal | None = None
    refusal: BrokerError | None = None
    cached_answer: str | None = None  # the route's cached answer, read by broker.auth.gate
    api_counted: bool = False  # counted against the caller's API rate limit already


NOBODY = Caller()


def remember(principal: Principal | None = None, refusal: BrokerError | None = None, *,
             cached: str | None = None, counted: bool = False) -> None:
    """Record who is calling (or why they are refused) for the rest of this request, with
    the answer broker.auth.gate read for the route and whether it counted the API rate limit."""
    g.caller = Caller(principal, refusal, cached, counted)


def caller() -> Caller:
    """This request's caller; NOBODY on a route without bearer auth."""
    found: Caller = g.get("caller", NOBODY)
    return found


def cached_answer() -> str | None:
    """The route's cached answer (JSON), read in the round trip that checked the session."""
    return caller().cached_answer


def api_counted() -> bool:
    """Whether this call was already counted against the caller's API rate limit."""
    return caller().api_counted


def identified() -> Principal | None:
    """The verified principal, or None (anonymous, refused, or a route without bearer auth)."""
    return caller().principal


def current_principal() -> Principal:
    """The verified principal of a bearer route; raises the refusal `identify` recorded."""
    found = caller()
    if found.principal is not None:
        return found.principal
    raise found.refusal if found.refusal is not None else Unauthenticated()
