"""Login Kit: the authorize URL, and the token endpoint through Authlib (exchange, refresh,
revoke), with TikTok's deviations from standard OAuth handled at Authlib's extension points.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_qs, url_decode
from authlib.integrations.requests_client import OAuth2Session
from requests.adapters import HTTPAdapter

from broker.tiktok.errors import refuse_redirects

TIKTOK_AUTH_METHOD = "tiktok_client_secret_post"
VERIFIER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


@dataclass(frozen=True)
class AuthorizationRequest:
    """What /login needs to remember and where it sends the browser."""

    url: str = field(repr=False)  # carries the state
    state: str = field(repr=False)
    code_verifier: str | None = field(repr=False)


@dataclass(frozen=True)
class TikTokGrant:
    """A user's TikTok tokens as TikTok returned them (times are absolute epoch seconds)."""

    open_id: str
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(repr=False)
    refresh_expires_at: float | None
    scopes: tuple[str, ...]
    issued_at: float = 0.0

    def needs_refresh(self, now: float) -> bool:
        """True within the last tenth of the token's life (at most 5 minutes before expiry)."""
        ahead = min(300.0, max(self.expires_at - self.issued_at, 0.0) / 10)
        return now >= self.expires_at - ahead

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float,
                      previous: TikTokGrant | None = None) -> TikTokGrant:
        """Build from a token-endpoint body; keep the old refresh token if none came back."""
        refresh = body.get("refresh_token") or None
        refresh_in = body.get("refresh_expires_in")
        if refresh is None and previous is not None:
            # [OBS] TikTok sandboxes sometimes omit refresh_token (tiktok-api.md §2.4).
            refresh, refresh_at = previous.refresh_token, previous.refresh_expires_at
        else:
            refresh_at = now + float(refresh_in) if refresh and refresh_in else None
        scope = str(body.get("scope") or "")
        return cls(
            open_id=str(body.get("open_id") or (previous.open_id if previous else "")),
            access_token=str(body["access_token"]),
            expires_at=now + float(body.get("expires_in") or 0),
            refresh_token=refresh,
            refresh_expires_at=refresh_at,
            # TikTok returns the granted scopes comma-separated (§2.1).
            scopes=tuple(s for s in scope.replace(" ", ",").split(",") if s)
            or (previous.scopes if previous else ()),
            issued_at=now,
        )


def new_code_verifier() -> str:
    """A 64-character PKCE verifier from the unreserved alphabet (§1.2: 43 to 128 characters)."""
    return "".join(secrets.choice(VERIFIER_ALPHABET) for _ in range(64))


def hex_s256_challenge(verifier: str) -> str:
    # TikTok's PKCE quirk (§1.2, Login Kit for Desktop): the S256 challenge is the *hex* SHA-256
    # of the verifier, not RFC 7636's base64url, so Authlib's own S256 cannot be used.
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def authorization_request(*, auth_url: str, client_key: str, redirect_uri: str,
                          scopes: tuple[str, ...], pkce: bool,
                          always_ask: bool = False) -> AuthorizationRequest:
    """The URL of TikTok's consent page for a fresh state (and verifier, when PKCE is on).

    `always_ask`: TikTok shows its consent page (and so its account choice) even to a browser
    already signed in to TikTok, so "connect another account" can pick another one.
    """
    state = secrets.token_urlsafe(32)
    verifier = new_code_verifier() if pkce else None
    params = {
        "client_key": client_key,  # TikTok names the app `client_key`, never `client_id` (§0)
        "scope": ",".join(scopes),  # comma-separated, not space-separated (§1.1)
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
    }
    if verifier:
        params.update(code_challenge=hex_s256_challenge(verifier), code_challenge_method="S256")
    if always_ask:
        params["disable_auto_auth"] = "1"  # §1.1: 1 = always show the page, never skip it
    separator = "&" if "?" in auth_url else "?"
    return AuthorizationRequest(url=auth_url + separator + urlencode(params), state=state,
                                code_verifier=verifier)


def tiktok_client_secret_post(client: Any, method: str, uri: str, headers: dict[str, str],
                              body: str) -> tuple[str, dict[str, str], str]:
    """Authlib client-auth method: credentials in the form body as `client_key`/`client_secret`.

    TikTok's token, refresh and revoke endpoints take the app key as `client_key` and no Basic
    auth (tiktok-api.md §2); Authlib's `client_secret_post` would send `client_id`.
    """
    params = [(k, v) for k, v in url_decode(body or "") if k != "client_id"]
    body = add_params_to_qs("", [*params, ("client_key", client.client_id),
                                 ("client_secret", client.client_secret or "")])
    headers["Cache-Control"] = "no-cache"  # as TikTok's own examples send (§2)
    return uri, headers, body


def oauth_session(*, client_key: str, client_secret: str, adapter: HTTPAdapter,
                  timeout: tuple[float, float]) -> OAuth2Session:
    """A short-lived Authlib session over the shared connection pool.

    One per call: Authlib's session keeps the last token on itself, which concurrent calls for
    different users would otherwise overwrite.
    """
    session = OAuth2Session(client_id=client_key, client_secret=client_secret,
                            token_endpoint_auth_method=TIKTOK_AUTH_METHOD,
                            revocation_endpoint_auth_method=TIKTOK_AUTH_METHOD,
                            default_timeout=timeout)
    session.register_client_auth_method((TIKTOK_AUTH_METHOD, tiktok_client_secret_post))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(refuse_redirects)  # nothing is re-sent elsewhere
    return session
