"""Sandbox settings: the registered app plus one switch per disputed TikTok behaviour.

Every field can be set from the environment (``SANDBOX_<NAME>``) at start-up and changed at
runtime through ``POST /_sandbox/config``. Values are validated as a whole; all problems are
reported at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MiB = 1024 * 1024


class ConfigError(ValueError):
    """One or more settings are invalid; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _choice(*values: str) -> dict[str, Any]:
    return {"choices": values}


@dataclass(frozen=True)
class Config:
    """All sandbox settings; frozen, replaced wholesale on change."""

    # --- the registered app -------------------------------------------------------------
    client_key: str = "sbawdevclientkey"
    client_secret: str = field(default="sandbox-dev-client-secret", repr=False)
    # Exact string match, trailing slash included (tiktok-api.md §1.4). http is accepted here
    # because this is a local emulator; real TikTok requires https for web apps.
    redirect_uris: tuple[str, ...] = ("http://localhost:8000/auth/callback",)
    webhook_url: str = ""
    audited: bool = False
    public_url: str = ""  # base for avatar URLs the browser loads; default: the request's host
    # --- authorize / PKCE (§1.2 [CONFLICT]) ----------------------------------------------
    pkce: str = field(default="required", metadata=_choice("required", "optional"))
    pkce_base64url: str = field(default="reject", metadata=_choice("reject", "accept"))
    require_state: bool = False  # §1.5: "yes in practice", never documented
    # §1.1: a browser already signed in to TikTok skips the consent page (and its account
    # choice) unless the request says disable_auto_auth=1. Off: the page is always shown.
    auto_auth: bool = False
    code_ttl: int = 600  # §1.3 [UNCONFIRMED]: third parties claim about 10 minutes
    # --- token endpoint (§2) ---------------------------------------------------------------
    errors_as_200: bool = False  # §2.5: TikTok sometimes answers errors with HTTP 200
    rotation: str = field(default="strict", metadata=_choice("strict", "legacy"))
    access_ttl: int = 0  # 0 = per rotation mode: strict 7200, legacy 86400 (§2.4)
    refresh_ttl: int = 0  # 0 = per rotation mode: strict 15552000, legacy 31536000 (§2.4)
    refresh_deadline: str = field(default="fixed", metadata=_choice("fixed", "sliding"))
    omit_refresh_token: bool = False  # §2.4 [OBS] "sometimes no refresh token in Sandbox"
    # --- revoke (§3) -------------------------------------------------------------------------
    revoke_with: str = field(default="access", metadata=_choice("access", "any"))  # §3 [OBS] Arctic
    revoke_body: str = field(default="json", metadata=_choice("json", "empty"))
    revoke_webhook: bool = True  # §3 [UNCONFIRMED]: authorization.removed reason 5
    # --- v2 API envelope (§4) ------------------------------------------------------------------
    api_errors_as_200: bool = False  # §4 [OBS]: some clients see 200 + non-ok error.code
    error_data: bool = True  # §4 [OBS]: error bodies come with and without "data": {}
    missing_scope_error: str = field(
        default="scope_not_authorized",
        metadata=_choice("scope_not_authorized", "scope_permission_missed"),
    )
    invalid_param_code: str = field(
        default="invalid_param", metadata=_choice("invalid_param", "invalid_params")
    )
    creator_can_post: bool = False  # §5.1 [OBS]: undocumented boolean some clients read
    # --- the app's registration and the Display API (§4b, §5.11, §9) -----------------------
    approved_scopes: tuple[str, ...] = ()  # empty: every known scope; others are refused
    cover_url_ttl: int = 21600  # §4b: a cover_image_url expires 6 h after it is issued
    # --- content posting (§5) ---------------------------------------------------------------
    verified_url_prefixes: tuple[str, ...] = ("https://media.example.com/",)
    processing_seconds: float = 3.0
    upload_url_ttl: int = 3600  # §5.2: upload_url valid for 1 hour
    mb: int = MiB  # §5.6 [UNCONFIRMED]: "MB" assumed to be MiB
    chunk_count: str = field(default="floor", metadata=_choice("floor", "lenient"))
    upload_range: str = field(default="inclusive", metadata=_choice("inclusive", "count"))
    accept_spaced_post_mode: bool = True  # §5.4 [CONFLICT]: "DIRECT POST" vs "DIRECT_POST"
    require_brand_toggle: bool = False  # §5.2 [CONFLICT]: table says required, examples omit
    posts_per_day: int = 15  # §5.9: "typically around 15 posts/day"
    pending_share_cap: int = 5  # §5.3: 5 pending shares per 24 h
    active_user_cap: int = 5  # §5.9: unaudited clients, 5 posting users per 24 h
    # --- behaviour integrators reported in 2026 (§5.11), off by default ----------------------
    refuse_multi_chunk: bool = False  # multi-chunk inits: 400 "The chunk size is invalid"
    photo_fail_reason: str = ""  # photo posts fail so, e.g. picture_size_check_failed (>1080 px)
    refuse_png: bool = False  # a .png photo fails the post (JPEG and WEBP only)
    inbox_app_too_old: bool = False  # drafts refused: app_version_check_failed (needs 31.8)
    public_id_delay: float = 0.0  # seconds between PUBLISH_COMPLETE and the public post id
    # --- rate limits (§7) --------------------------------------------------------------------
    rate_limits: bool = True
    ratelimit_header: bool = False  # §7 [UNCONFIRMED]: x-ratelimit-reset
    # --- webhooks (§6) -----------------------------------------------------------------------
    webhook_max_attempts: int = 6
    webhook_backoff: float = 1.0
    webhook_resign: bool = True  # §6 [UNCONFIRMED]: whether retries get a fresh t

    @property
    def effective_access_ttl(self) -> int:
        """Access token lifetime in seconds, after applying the rotation mode default."""
        return self.access_ttl or (7200 if self.rotation == "strict" else 86400)

    @property
    def effective_refresh_ttl(self) -> int:
        """Refresh token lifetime in seconds, after applying the rotation mode default."""
        return self.refresh_ttl or (15552000 if self.rotation == "strict" else 31536000)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        """Build settings from ``SANDBOX_*`` variables; raise ConfigError listing all problems."""
        raw = {
            f.name: environ[f"SANDBOX_{f.name.upper()}"]
            for f in dataclasses.fields(cls)
            if f"SANDBOX_{f.name.upper()}" in environ
        }
        return cls().updated(raw)

    def updated(self, changes: Mapping[str, Any]) -> Config:
        """Return a copy with ``changes`` applied (strings or JSON values), all validated."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name, value in changes.items():
            f = fields.get(name)
            if f is None:
                problems.append(f"unknown setting {name!r}")
                continue
            try:
                values[name] = _coerce(value, type(getattr(self, name)), f.metadata)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        new = dataclasses.replace(self, **values)
        problems += new._problems()
        if problems:
            raise ConfigError(problems)
        return new

    def _problems(self) -> list[str]:
        out = []
        if not self.client_key:
            out.append("client_key: must not be empty")
        if not self.client_secret:
            out.append("client_secret: must not be empty")
        if not self.redirect_uris:
            out.append("redirect_uris: at least one is required")
        for uri in self.redirect_uris:
            if not uri.startswith(("http://", "https://")) or "#" in uri or len(uri) >= 512:
                out.append(f"redirect_uris: {uri!r} must be absolute http(s), <512, no fragment")
        for name in ("access_ttl", "refresh_ttl", "code_ttl", "upload_url_ttl", "mb",
                     "cover_url_ttl"):
            if getattr(self, name) < 0:
                out.append(f"{name}: must not be negative")
        if self.processing_seconds < 0 or self.webhook_backoff < 0:
            out.append("processing_seconds/webhook_backoff: must not be negative")
        if self.webhook_max_attempts < 1:
            out.append("webhook_max_attempts: must be at least 1")
        return out

    def public(self) -> dict[str, Any]:
        """Settings as JSON (the secret included: this is a test double) plus effective TTLs."""
        out = dataclasses.asdict(self)
        out["redirect_uris"] = list(self.redirect_uris)
        out["verified_url_prefixes"] = list(self.verified_url_prefixes)
        out["approved_scopes"] = list(self.approved_scopes)
        out["effective_access_ttl"] = self.effective_access_ttl
        out["effective_refresh_ttl"] = self.effective_refresh_ttl
        return out


def _coerce(value: Any, kind: type, meta: Mapping[str, Any]) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if kind is tuple:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(i).strip() for i in items if str(i).strip())
    if kind in (int, float):
        if isinstance(value, bool):
            raise ValueError(f"not a number: {value!r}")
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"not a number: {value!r}") from None
    text = str(value).strip()
    choices = meta.get("choices")
    if choices and text not in choices:
        raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
    return text
