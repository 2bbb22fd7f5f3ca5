"""Authorization codes, grants and tokens: the sandbox's OAuth state, guarded by one lock."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field

from .config import Config


class Clock:
    """Wall-clock time plus an offset that tests can advance through the control API."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Current sandbox time, epoch seconds."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move sandbox time forward (tokens, codes and uploads expire accordingly)."""
        self.offset += seconds


def _suffix() -> str:
    # §1.3 [OBS]: real codes and tokens end like "*1!4608.va", so clients must URL-encode them.
    return f"!{secrets.randbelow(9000) + 1000}.va"


def new_code() -> str:
    """A random authorization code that contains `*`, `!` and `.` as real ones do (§1.3)."""
    return f"{secrets.token_urlsafe(48)}*{secrets.randbelow(10)}{_suffix()}"


def new_token(prefix: str) -> str:
    """A random token with TikTok's prefix: act. / rft. / clt. (§2.1)."""
    return f"{prefix}.{secrets.token_urlsafe(40)}{_suffix()}"


@dataclass
class Grant:
    """One user's authorization of the app; revoking it kills every token it issued."""

    id: int
    open_id: str
    scopes: tuple[str, ...]
    refresh_deadline: float
    revoked: bool = False


@dataclass
class Code:
    """An authorization code: single use, short-lived, bound to redirect_uri and PKCE."""

    code: str = field(repr=False)
    open_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    challenge: str
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    """A user (act.) or client (clt.) access token."""

    token: str = field(repr=False)
    grant: Grant | None
    expires_at: float

    @property
    def open_id(self) -> str | None:
        """The user this token acts for; None for client tokens."""
        return self.grant.open_id if self.grant else None

    @property
    def scopes(self) -> tuple[str, ...]:
        """Scopes granted to this token."""
        return self.grant.scopes if self.grant else ()


@dataclass
class RefreshToken:
    """A refresh token; with strict rotation it dies as soon as it has been used."""

    token: str = field(repr=False)
    grant: Grant
    expires_at: float
    dead: bool = False


@dataclass
class Issued:
    """The result of a successful grant: what the token endpoint returns."""

    access: AccessToken
    refresh: RefreshToken | None


class TokenStore:
    """All OAuth state. Every method is atomic under ``self.lock``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        # Every secret handed out in this process, kept across resets for leak tests.
        self.issued: dict[str, list[str]] = {"codes": [], "access_tokens": [], "refresh_tokens": []}
        self.reset()

    def reset(self) -> None:
        """Forget every code, grant and token (the issued-secrets record is kept)."""
        with self.lock:
            self.codes: dict[str, Code] = {}
            self.access: dict[str, AccessToken] = {}
            self.refresh: dict[str, RefreshToken] = {}
            self.grants: list[Grant] = []

    def issue_code(self, open_id: str, scopes: tuple[str, ...], redirect_uri: str,
                   challenge: str, ttl: int) -> str:
        """Store and return a new authorization code."""
        with self.lock:
            code = new_code()
            self.codes[code] = Code(code, open_id, scopes, redirect_uri, challenge,
                                    self.clock.now() + ttl)
            self.issued["codes"].append(code)
            return code

    def take_code(self, code: str) -> tuple[Code | None, str]:
        """Consume a code (single use). Returns (code, "") or (None, why it was refused)."""
        with self.lock:
            found = self.codes.get(code)
            if found is None:
                return None, "Authorization code is invalid."
            if found.used:
                return None, "Authorization code has been used."
            found.used = True
            if found.expires_at <= self.clock.now():
                return None, "Authorization code is expired."
            return found, ""

    def grant(self, open_id: str, scopes: tuple[str, ...], cfg: Config) -> Issued:
        """Create a new grant and its first token pair."""
        with self.lock:
            g = Grant(next(self._ids), open_id, scopes,
                      self.clock.now() + cfg.effective_refresh_ttl)
            self.grants.append(g)
            return Issued(self._new_access(g, cfg), self._new_refresh(g, g.refresh_deadline))

    def client_token(self, ttl: int) -> AccessToken:
        """A client-credentials token (clt.), no user, no refresh (§2.3)."""
        with self.lock:
            tok = AccessToken(new_token("clt"), None, self.clock.now() + ttl)
            self.access[tok.token] = tok
            self.issued["access_tokens"].append(tok.token)
            return tok

    def use_refresh(self, token: str, cfg: Config) -> tuple[Issued | None, str]:
        """Refresh grant: strict rotation kills the old refresh token (§2.4)."""
        with self.lock:
            old = self.refresh.get(token)
            now = self.clock.now()
            if old is None or old.dead or old.grant.revoked:
                return None, "Refresh token is invalid or expired."
            if old.expires_at <= now:
                return None, "Refresh token is expired."
            g = old.grant
            deadline = old.expires_at
            if cfg.refresh_deadline == "sliding":  # §2.4 [UNCONFIRMED] window extension
                deadline = now + cfg.effective_refresh_ttl
            if cfg.rotation == "legacy":  # §2.4 legacy page: "may be different"; here it is not
                old.expires_at = deadline
                return Issued(self._new_access(g, cfg), old), ""
            old.dead = True  # §2.4 (2026): "The previous refresh token stops working"
            return Issued(self._new_access(g, cfg), self._new_refresh(g, deadline)), ""

    def _new_access(self, g: Grant, cfg: Config) -> AccessToken:
        tok = AccessToken(new_token("act"), g, self.clock.now() + cfg.effective_access_ttl)
        self.access[tok.token] = tok
        self.issued["access_tokens"].append(tok.token)
        return tok

    def _new_refresh(self, g: Grant, expires_at: float) -> RefreshToken:
        tok = RefreshToken(new_token("rft"), g, expires_at)
        self.refresh[tok.token] = tok
        self.issued["refresh_tokens"].append(tok.token)
        return tok

    def find_access(self, token: str) -> AccessToken | None:
        """A live access token, or None if unknown, expired or revoked."""
        with self.lock:
            tok = self.access.get(token)
            if tok is None or tok.expires_at <= self.clock.now():
                return None
            if tok.grant is not None and tok.grant.revoked:
                return None
            return tok

    def grant_for_revoke(self, token: str, allow_refresh: bool) -> Grant | None:
        """The live grant a revoke request names (an expired access token still counts)."""
        with self.lock:
            acc = self.access.get(token)
            if acc is not None and acc.grant is not None and not acc.grant.revoked:
                return acc.grant
            ref = self.refresh.get(token) if allow_refresh else None
            if ref is not None and not ref.dead and not ref.grant.revoked:
                return ref.grant
            return None

    def revoke(self, grant: Grant) -> None:
        """Revoke a grant: all its access and refresh tokens stop working."""
        with self.lock:
            grant.revoked = True

    def revoke_user(self, open_id: str) -> list[Grant]:
        """Revoke every live grant of a user; returns the grants revoked."""
        with self.lock:
            live = [g for g in self.grants if g.open_id == open_id and not g.revoked]
            for g in live:
                g.revoked = True
            return live

    def expire_user(self, open_id: str) -> int:
        """Expire every access token of a user now (refresh tokens keep working)."""
        with self.lock:
            now = self.clock.now()
            hit = [t for t in self.access.values() if t.open_id == open_id and t.expires_at > now]
            for t in hit:
                t.expires_at = now - 1
            return len(hit)
