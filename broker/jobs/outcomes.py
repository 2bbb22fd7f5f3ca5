"""How the worker judges a failure of a post: defer it (a TikTok cap, a rate limit), retry it
with backoff (a transient fault), or fail it for good with a reason the app can show."""

from __future__ import annotations

from dataclasses import dataclass

from broker.errors import (
    BrokerError,
    RateLimited,
    ReauthRequired,
    StoreUnavailable,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from broker.posting.uploads import UploadFailed, UploadUrlExpired
from broker.sources.fetcher import MediaSourceRefused
from broker.tiktok.errors import TikTokApiError

MAX_RETRIES = 8  # transient failures before a post fails for good
# TikTok's caps (§5.1, §5.3, §5.9, §7): the post waits instead of failing.
CAPS = ("spam_risk_too_many_posts", "spam_risk_too_many_pending_share",
        "reached_active_user_cap", "rate_limit_exceeded", "creator_cannot_post")


@dataclass(frozen=True)
class Verdict:
    """What to do: "defer" (wait `seconds`), "retry" (backoff), or "fail" (with `reason`)."""

    action: str
    reason: str = ""
    seconds: float = 0.0


class Deferred(Exception):
    """Raised by the runner itself: wait `seconds` (TikTok's per-minute init budget, a cap)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds, self.reason = seconds, reason


class PostFailed(Exception):
    """Raised by the runner itself: the post cannot be made (`reason` is stored)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def judge(exc: BaseException, *, init_sent: bool, cap_wait: float) -> Verdict:
    """The verdict on `exc`; `init_sent`: TikTok was asked to start and did not answer yet."""
    if isinstance(exc, Deferred):
        return Verdict("defer", exc.reason, exc.seconds)
    if isinstance(exc, PostFailed):
        return Verdict("fail", exc.reason)
    if init_sent and isinstance(exc, UpstreamTimeout):
        # TikTok may have started the post without our hearing it: never start a second one.
        return Verdict("fail", "start_unconfirmed")
    if isinstance(exc, TikTokApiError) and exc.tiktok_code in CAPS:
        return Verdict("defer", exc.tiktok_code, cap_wait)
    if isinstance(exc, BrokerError) and exc.code in CAPS:
        return Verdict("defer", exc.code, cap_wait)
    if isinstance(exc, RateLimited):
        return Verdict("defer", exc.code, float(exc.headers.get("Retry-After", "60")))
    if isinstance(exc, ReauthRequired):
        return Verdict("fail", "reauth_required")
    if isinstance(exc, BrokerError) and exc.code in ("upload_incomplete", "upload_in_progress"):
        return Verdict("retry", exc.code)  # the source broke off: resume where TikTok stands
    if isinstance(exc, UploadUrlExpired):
        return Verdict("fail", exc.code)
    if isinstance(exc, MediaSourceRefused):
        return Verdict("retry", exc.reason) if exc.transient else Verdict("fail", exc.reason)
    if isinstance(exc, UploadFailed | UpstreamUnavailable | UpstreamTimeout | StoreUnavailable
                  | OSError) or (isinstance(exc, UpstreamError) and exc.status >= 500
                                 and not isinstance(exc, TikTokApiError)):
        return Verdict("retry", getattr(exc, "code", type(exc).__name__))
    if isinstance(exc, TikTokApiError):
        if exc.status >= 500:
            return Verdict("retry", exc.tiktok_code)
        return Verdict("fail", exc.tiktok_code)
    if isinstance(exc, BrokerError):
        return Verdict("retry", exc.code) if exc.status >= 500 else Verdict("fail", exc.code)
    return Verdict("retry", type(exc).__name__)  # a bug: logged, retried a few times
