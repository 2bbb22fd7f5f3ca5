"""TikTokClient: Login Kit and the v2 API behind one narrow, typed interface."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from broker.clock import Clock
from broker.errors import UpstreamError, UpstreamUnavailable
from broker.tiktok import oauth
from broker.tiktok.errors import (
    TikTokApiError,
    TikTokOAuthError,
    check_http,
    guarded,
    json_object,
    refuse_redirects,
)
from broker.tiktok.oauth import AuthorizationRequest, TikTokGrant
from broker.tiktok.transport import Environment

CONNECT_TIMEOUT = 3.05
SLOT_WAIT = 0.1  # seconds a request may wait for a free TikTok call slot before a fast 503


@dataclass
class CallNote:
    """What an observer (broker.web.metrics) learns of one call beyond the exception it raised."""

    outcome: str | None = None  # None: "ok", or judged from the exception
    bytes_sent: int = 0


def unobserved(endpoint: str) -> AbstractContextManager[CallNote]:
    """The default observer: nothing recorded."""
    return nullcontext(CallNote())


class TikTokClient:
    """One per app: pooled connections, a timeout on every call, errors judged from the body."""

    def __init__(self, *, client_key: str, client_secret: str, redirect_uri: str, auth_url: str,
                 api_url: str, scopes: tuple[str, ...], pkce: bool, timeout: float,
                 clock: Clock, max_concurrency: int = 6,
                 observe: Callable[[str], AbstractContextManager[CallNote]] = unobserved) -> None:
        self.client_key, self._client_secret = client_key, client_secret
        self.redirect_uri, self.auth_url, self.api_url = redirect_uri, auth_url, api_url
        self.scopes, self.pkce, self._clock = scopes, pkce, clock
        self.timeout = (min(CONNECT_TIMEOUT, timeout), timeout)
        self._adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        self._environment = Environment.read(api_url)
        self.http = self._environment.apply(requests.Session())
        self.http.mount("https://", self._adapter)
        self.http.mount("http://", self._adapter)
        self.http.hooks["response"].append(refuse_redirects)
        # A bulkhead: when TikTok is slow, at most this many of the process's threads wait on
        # it, so the rest keep serving other routes (health, refresh, cached profiles).
        self._slots = threading.BoundedSemaphore(max_concurrency)
        # Wraps every call by endpoint name (token, user_info, video_init, upload_chunk, ...).
        self.observe = observe

    # --- Login Kit -------------------------------------------------------------------------

    def authorization_request(self, extra_scopes: tuple[str, ...] = (),
                              always_ask: bool = False) -> AuthorizationRequest:
        """A fresh state (and PKCE verifier) and the consent-page URL carrying them."""
        scopes = tuple(dict.fromkeys(self.scopes + extra_scopes))
        return oauth.authorization_request(auth_url=self.auth_url, client_key=self.client_key,
                                           redirect_uri=self.redirect_uri, scopes=scopes,
                                           pkce=self.pkce, always_ask=always_ask)

    def exchange_code(self, code: str, code_verifier: str | None) -> TikTokGrant:
        """Trade an authorization code for the user's tokens (§2.1)."""
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        body = self._token_call(lambda s: s.fetch_token(
            self._url("/v2/oauth/token/"), grant_type="authorization_code", code=code,
            redirect_uri=self.redirect_uri, **extra))
        grant = TikTokGrant.from_response(body, self._clock.now())
        if not grant.open_id:
            raise UpstreamError("TikTok's token response named no user.",
                                code="tiktok_bad_response")
        return grant

    def refresh(self, grant: TikTokGrant) -> TikTokGrant:
        """Use the (single-use, §2.4) refresh token; the returned one replaces it."""
        if not grant.refresh_token:
            raise TikTokOAuthError("invalid_grant", "no refresh token", None)
        body = self._token_call(lambda s: s.fetch_token(
            self._url("/v2/oauth/token/"), grant_type="refresh_token",
            refresh_token=grant.refresh_token))
        return TikTokGrant.from_response(body, self._clock.now(), previous=grant)

    def revoke(self, access_token: str) -> None:
        """Revoke the user's grant at TikTok (§3: the `token` is the access token)."""
        def call(session: Any) -> None:
            response = session.revoke_token(self._url("/v2/oauth/revoke/"), token=access_token)
            check_http(response)
            body = json_object(response) if response.content.strip() else {}
            if body.get("error"):
                raise TikTokOAuthError(str(body["error"]), str(body.get("error_description", "")),
                                       body.get("log_id"))
        self._token_call(call, endpoint="revoke")

    def _token_call(self, call: Any, endpoint: str = "token") -> Any:
        session = self._environment.apply(oauth.oauth_session(
            client_key=self.client_key, client_secret=self._client_secret,
            adapter=self._adapter, timeout=self.timeout))
        session.register_compliance_hook("access_token_response", _check_token_response)
        with self._slot(), self.observe(endpoint):
            return guarded(lambda: call(session))

    # --- v2 API ----------------------------------------------------------------------------

    def user_info(self, access_token: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """The user's profile fields (§4); `fields` goes comma-separated in the query."""
        data = self.api("GET", "/v2/user/info/", access_token, params={"fields": ",".join(fields)})
        user = data.get("user")
        if not isinstance(user, dict):
            raise UpstreamError("TikTok's user info had no user.", code="tiktok_bad_response")
        return user

    def api(self, method: str, path: str, access_token: str, *,
            params: dict[str, str] | None = None, json: dict[str, Any] | None = None,
            timeout: float | None = None) -> dict[str, Any]:
        """Call a v2 endpoint and unwrap its `{data, error}` envelope (§0).

        Success is `error.code == "ok"`, whatever the HTTP status: TikTok sends some errors with
        HTTP 200 (§4, §5.1) and some bodies without `data`.
        """
        headers = {"Authorization": f"Bearer {access_token}"}
        if json is not None:
            headers["Content-Type"] = "application/json; charset=UTF-8"
        read_timeout = timeout or self.timeout[1]
        with self._slot(), self.observe(endpoint_name(path)):
            response = guarded(lambda: self.http.request(
                method, self._url(path), params=params, json=json, headers=headers,
                timeout=(self.timeout[0], read_timeout)))
            check_http(response)
            body = json_object(response)
            error = body.get("error")
            if not isinstance(error, dict) or "code" not in error:
                raise UpstreamError("TikTok sent a malformed response.", code="tiktok_bad_response")
            if error["code"] != "ok":
                raise TikTokApiError(str(error["code"]), response.status_code, error.get("log_id"))
            data = body.get("data")
            return data if isinstance(data, dict) else {}

    def _url(self, path: str) -> str:
        return self.api_url + path

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """Hold one of the process's TikTok call slots, or fail fast when all are taken."""
        if not self._slots.acquire(timeout=SLOT_WAIT):
            raise UpstreamUnavailable("TikTok is answering slowly and this server is waiting on "
                                      "it for other requests; try again shortly.",
                                      code="tiktok_busy", headers={"Retry-After": "1"})
        try:
            yield
        finally:
            self._slots.release()


def endpoint_name(path: str) -> str:
    """A v2 path's metric name: "/v2/post/publish/creator_info/query/" -> "creator_info"."""
    parts = [p for p in path.strip("/").split("/")[1:] if p not in ("post", "publish", "query")]
    return "_".join(parts) or "unknown"


def _check_token_response(response: requests.Response) -> requests.Response:
    """Authlib hook: judge the token endpoint by its body, since TikTok may say 200 for errors."""
    check_http(response)
    body = json_object(response)
    if body.get("error"):
        raise TikTokOAuthError(str(body["error"]), str(body.get("error_description", "")),
                               body.get("log_id"))
    if not body.get("access_token"):
        raise UpstreamError("TikTok's token response had no token.", code="tiktok_bad_response")
    return response
