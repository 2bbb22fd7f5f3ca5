"""The broker's own short-lived JWTs: issue and verify, with the algorithm pinned per key."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from broker.clock import Clock
from broker.config.keys import SigningKey
from broker.errors import InvalidToken

REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "scope", "iat", "nbf", "exp", "jti"]
LEEWAY = 5  # seconds of clock skew tolerated between replicas
REMEMBERED = 4096  # verified tokens a process keeps (a few hundred bytes each)


@dataclass(frozen=True)
class Principal:
    """Who a verified JWT speaks for."""

    open_id: str  # the TikTok account acted for ("" on a service route, which names none)
    session_id: str
    scopes: frozenset[str]  # the account's granted TikTok scopes
    jwt_id: str
    # Who holds the credential, when it is not the account's own login: "key:<id>" (a service
    # key) or "app:<app_user_id>" (a JWT minted for an app user; broker.accounts).
    holder: str = ""
    permissions: frozenset[str] | None = None  # a service credential's scopes; None: a login

    @property
    def caller(self) -> str:
        """Whom a request counts against (rate limits, idempotency): the holder, else the user."""
        return self.holder or "user:" + self.open_id


@dataclass(frozen=True)
class _Verified:
    """A token whose signature and claims checked out: who it speaks for, and when it is valid."""

    principal: Principal
    not_before: float  # the later of nbf and iat
    expires: float


class JwtService:
    """Signs with the first key; verifies only tokens whose `kid` names a known key.

    With `remember` > 0 it keeps that many verified tokens (by their exact text): a token seen
    again skips the signature and claim checks and is only judged against the clock, which is
    all that can have changed (the keys, issuer and audience are fixed for the process). Whether
    its session still lives is never remembered: broker.auth.gate asks Redis every time.
    """

    def __init__(self, keys: tuple[SigningKey, ...], *, issuer: str, audience: str,
                 ttl: int, clock: Clock, remember: int = 0) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self._keys = {key.kid: key for key in keys}
        self._current = keys[0]
        self.issuer, self.audience, self.ttl, self._clock = issuer, audience, ttl, clock
        self._remember = remember
        self._verified: dict[str, _Verified] = {}

    def issue(self, open_id: str, session_id: str, scopes: tuple[str, ...]) -> str:
        """A signed JWT for this session, valid for `ttl` seconds."""
        now = int(self._clock.now())
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": open_id, "sid": session_id,
            "scope": " ".join(scopes),  # RFC 9068: space-separated (TikTok itself uses commas)
            "iat": now, "nbf": now, "exp": now + self.ttl, "jti": secrets.token_urlsafe(16),
        }
        key = self._current
        return jwt.encode(claims, key.private, algorithm=key.algorithm, headers={"kid": key.kid})

    def verify(self, token: str) -> Principal:
        """Check signature, kid, algorithm, iss, aud, exp and nbf; raise InvalidToken otherwise."""
        verified = self._verified.get(token)
        if verified is None:
            verified = self._check(token)
            if self._remember:
                self._keep(token, verified)
        now = self._clock.now()
        if now < verified.not_before - LEEWAY:
            raise InvalidToken("The token is not yet valid.")
        if now >= verified.expires + LEEWAY:
            raise InvalidToken("The token has expired.")
        return verified.principal

    def _check(self, token: str) -> _Verified:
        """The signature and every claim but the times (judged by the caller, each call)."""
        try:
            key = self._keys.get(_unverified_kid(token))
            if key is None:
                jwt.get_unverified_header(token)  # a malformed token is "invalid", as always
                raise InvalidToken("The token was signed with a key this broker no longer has "
                                   "(its JWT signing keys changed); sign in again.")
            claims: dict[str, Any] = jwt.decode(
                token, key.public, algorithms=[key.algorithm], audience=self.audience,
                issuer=self.issuer, options={"require": REQUIRED_CLAIMS, "verify_exp": False,
                                             "verify_nbf": False, "verify_iat": False},
                # PyJWT would judge exp/nbf/iat by the wall clock; the injected clock does.
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is invalid.") from exc
        times = [claims[c] for c in ("iat", "nbf", "exp")]
        if not all(isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
                   for t in times):
            raise InvalidToken("The token is invalid.")
        if not all(isinstance(claims[c], str) for c in ("aud", "sub", "sid", "scope", "jti")):
            raise InvalidToken("The token is invalid.")
        principal = Principal(open_id=claims["sub"], session_id=claims["sid"],
                              scopes=frozenset(claims["scope"].split()), jwt_id=claims["jti"])
        return _Verified(principal, max(claims["nbf"], claims["iat"]), claims["exp"])

    def _keep(self, token: str, verified: _Verified) -> None:
        """Remember a verified token; past `remember` tokens the oldest kept one goes (worker
        threads may race here: a lost entry is only verified again)."""
        if len(self._verified) >= self._remember:
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del self._verified[next(iter(self._verified))]
        self._verified[token] = verified


def _unverified_kid(token: str) -> str:
    """The header's `kid`, only to pick the key; jwt.decode then checks the whole token.

    jwt.get_unverified_header would validate the token character by character in Python, and
    jwt.decode does it again: on a cached /api/me that was a fifth of the JWT's cost.
    """
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidToken("The token is invalid.") from exc
    if not isinstance(header, dict):
        raise InvalidToken("The token is invalid.")
    return str(header.get("kid", ""))
