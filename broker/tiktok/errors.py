"""How TikTok's failures become broker errors: one table, shared by every TikTok call."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from broker.errors import (
    BrokerError,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)

T = TypeVar("T")


class TikTokOAuthError(BrokerError):
    """The token/revoke endpoint refused: `{error, error_description, log_id}` (§2.5)."""

    status, code = 502, "tiktok_error"

    def __init__(self, error: str, description: str, log_id: str | None) -> None:
        super().__init__(f"TikTok refused the grant ({error}).", tiktok_log_id=log_id)
        self.error = error
        self.tiktok_description = description


class TikTokApiError(BrokerError):
    """A v2 API call answered with `error.code` other than "ok" (§0), mapped by API_ERRORS."""

    def __init__(self, tiktok_code: str, http_status: int, log_id: str | None) -> None:
        status, code, description = API_ERRORS.get(
            tiktok_code, (502, "tiktok_error", f"TikTok refused the request ({tiktok_code})."))
        super().__init__(description, code=code, tiktok_log_id=log_id)
        self.status = status  # TikTok's code decides it, through API_ERRORS
        self.tiktok_code = tiktok_code
        self.http_status = http_status


# TikTok error.code -> (broker status, broker code, sentence). Content Posting adds its own.
API_ERRORS: dict[str, tuple[int, str, str]] = {
    "access_token_invalid": (401, "reauth_required",
                             "TikTok no longer accepts this login; sign in with TikTok again."),
    "scope_not_authorized": (403, "scope_not_granted",
                             "The user did not grant the TikTok permission this needs."),
    "scope_permission_missed": (403, "scope_not_granted",
                                "Some requested fields need permissions the user did not grant."),
    "invalid_params": (400, "tiktok_invalid_params", "TikTok rejected the request's parameters."),
    "invalid_param": (400, "tiktok_invalid_params", "TikTok rejected the request's parameters."),
    "rate_limit_exceeded": (429, "tiktok_rate_limited",
                            "TikTok's rate limit was reached; try again shortly."),
    "internal_error": (502, "tiktok_error", "TikTok had an internal error."),
    # Content Posting (§5.1-§5.7, §5.9): the broker passes TikTok's own code on, so the SPA can
    # tell "try later" caps apart from fixable requests.
    "spam_risk_too_many_posts": (
        403, "spam_risk_too_many_posts",
        "This account reached TikTok's daily limit of posts through apps; try again later."),
    "spam_risk_user_banned_from_posting": (
        403, "spam_risk_user_banned_from_posting",
        "TikTok does not allow this account to post right now; try again later."),
    "reached_active_user_cap": (
        403, "reached_active_user_cap",
        "This app reached TikTok's daily cap of creators who may post; try again later."),
    "spam_risk_too_many_pending_share": (
        403, "spam_risk_too_many_pending_share",
        "This account has too many drafts waiting in its TikTok inbox (5 per 24 h)."),
    "unaudited_client_can_only_post_to_private_accounts": (
        403, "unaudited_client_can_only_post_to_private_accounts",
        "Until the app passes TikTok's audit, only private accounts can post, as 'Only me'."),
    "url_ownership_unverified": (
        403, "url_ownership_unverified",
        "The media URL is not under a domain or URL prefix verified with TikTok."),
    "privacy_level_option_mismatch": (
        400, "privacy_level_option_mismatch",
        "The privacy level is not among those TikTok offers this creator now."),
    "invalid_publish_id": (404, "invalid_publish_id", "TikTok knows no post with this publish_id."),
    "token_not_authorized_for_specified_publish_id": (
        403, "publish_id_not_yours", "This publish_id belongs to another TikTok user or app."),
    "publish_not_cancellable": (
        409, "publish_not_cancellable", "Only a pull from URL still downloading can be cancelled."),
    "app_version_check_failed": (
        400, "app_version_check_failed",
        "Photo drafts need TikTok app version 31.8 or later on the creator's phone."),
    "invalid_file_upload": (400, "invalid_file_upload",
                            "TikTok says the uploaded file does not meet its requirements."),
}


def retry_after(response: requests.Response, now: float | None = None) -> str:
    """Seconds to wait, from TikTok's `x-ratelimit-reset` ([OBS] §7; epoch or delta) or 60."""
    raw = response.headers.get("x-ratelimit-reset") or response.headers.get("Retry-After")
    try:
        value = float(raw or "")
    except ValueError:
        return "60"
    if value > 1_000_000_000:  # an epoch timestamp rather than a delay
        value -= now if now is not None else time.time()
    return str(int(min(max(value, 1), 3600)))


def check_http(response: requests.Response) -> None:
    """Raise for the HTTP-level failures that carry no usable TikTok body: 5xx and 429.

    TikTok's `log_id` travels with the error whenever TikTok gave one (SPEC: it is what TikTok's
    support asks for), from the body's envelope or the `X-Tt-Logid` header [OBS].
    """
    log_id = log_id_of(response) if response.status_code == 429 or response.status_code >= 500 \
        else None
    if response.status_code == 429:
        raise RateLimited("TikTok's rate limit was reached; try again shortly.",
                          code="tiktok_rate_limited", tiktok_log_id=log_id,
                          headers={"Retry-After": retry_after(response)})
    if response.status_code == 503:
        raise UpstreamUnavailable(tiktok_log_id=log_id)
    if response.status_code >= 500:
        raise UpstreamError(tiktok_log_id=log_id)


def log_id_of(response: requests.Response) -> str | None:
    """TikTok's log id for this answer: `error.log_id` (§0), `log_id` (§2.5), or the header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        found = error.get("log_id") if isinstance(error, dict) else body.get("log_id")
        if isinstance(found, str) and found:
            return found[:128]
    header = response.headers.get("X-Tt-Logid")
    return header[:128] if header else None


def refuse_redirects(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A requests response hook: TikTok's API never redirects, so a 3xx is an error, raised
    before requests would follow it (a 307 from the token endpoint would re-send the client
    secret, the code and the PKCE verifier to wherever it points)."""
    if response.is_redirect or 300 <= response.status_code < 400:
        raise UpstreamError(f"TikTok answered with a redirect (HTTP {response.status_code}), "
                            "which the broker never follows.", code="tiktok_bad_response",
                            tiktok_log_id=log_id_of(response))


def json_object(response: requests.Response) -> dict[str, Any]:
    """The body as a JSON object, or a 502 for anything else (HTML error pages, truncation)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise UpstreamError("TikTok sent a malformed response.", code="tiktok_bad_response")
    return body


def guarded(call: Callable[[], T]) -> T:
    """Run one outbound call, turning transport failures into 503/504 broker errors."""
    try:
        return call()
    except requests.Timeout as exc:
        raise UpstreamTimeout() from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise UpstreamUnavailable() from exc
    except requests.RequestException as exc:
        raise UpstreamError() from exc
