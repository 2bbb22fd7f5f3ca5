"""What TikTok says of the app: key and secret, sandbox vs audit, the authorize request, scopes,
and the clock (TikTok's `Date` against ours)."""

from __future__ import annotations

import requests

from broker.config.settings import Settings
from broker.doctor.findings import Finding, fail, ok, warn
from broker.tiktok.app_checks import KNOWN_SCOPES, try_authorize, try_client_credentials

CLOCK_TOLERANCE = 30  # seconds; webhook signatures, JWTs and cover URLs all carry times
PORTAL = "https://developers.tiktok.com/apps"
FIXES = {
    "redirect_uri": "Register {redirect_uri} exactly (scheme, host, path, trailing slash) "
                    "under Login Kit > Redirect URI in " + PORTAL + ", or set "
                    "TIKTOK_REDIRECT_URI to the one registered.",
    "client_key": "TikTok does not know TIKTOK_CLIENT_KEY: copy it from the app's page in "
                  + PORTAL + " (a sandbox has its own key, starting sb).",
    "code_challenge": "TikTok wants a PKCE challenge for this app: set TIKTOK_PKCE=hex.",
    "code_challenge_method": "TikTok wants a hex S256 PKCE challenge: set TIKTOK_PKCE=hex.",
}


def credentials(http: requests.Session, settings: Settings,
                timeout: tuple[float, float]) -> tuple[Finding, float | None]:
    """Key and secret, by the client-credentials grant (§2.3); also TikTok's clock."""
    try:
        answer = try_client_credentials(http, api_url=settings.api_url,
                                        client_key=settings.client_key,
                                        client_secret=settings.client_secret, timeout=timeout)
    except requests.RequestException as exc:
        return fail("credentials", f"TikTok's token endpoint at {settings.api_url} did not "
                    f"answer ({type(exc).__name__}).", "Check TIKTOK_API_URL and that this "
                    "machine can reach it (DNS, firewall, proxy)."), None
    if answer.accepted:
        return ok("credentials", "TikTok accepted the client key and secret "
                  "(client-credentials grant)."), answer.server_time
    if answer.error in ("invalid_client", "unauthorized_client"):
        return fail("credentials", f"TikTok refused the client key or secret ({answer.error}).",
                    "Copy TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET from the same app in "
                    f"{PORTAL}; a sandbox has its own pair, and a reset secret replaces the "
                    "old one."), answer.server_time
    return fail("credentials", f"TikTok's token endpoint answered {answer.error}.",
                "Check TIKTOK_API_URL points at https://open.tiktokapis.com (or the sandbox) "
                "and try again; a 5xx is TikTok's side."), answer.server_time


def sandbox_audit(settings: Settings) -> Finding:
    """A sandbox key (`sb...`, §9) can never post publicly, whatever TIKTOK_AUDITED says."""
    sandbox = settings.client_key.startswith("sb")
    if sandbox and settings.audited:
        return fail("sandbox_audited", "TIKTOK_CLIENT_KEY is a sandbox key (sb...) but "
                    "TIKTOK_AUDITED=true: the SPA would offer public posts TikTok refuses.",
                    "Set TIKTOK_AUDITED=false while on the sandbox; use the production key and "
                    "secret once the Content Posting audit has passed.")
    if sandbox:
        return ok("sandbox_audited", "A sandbox key: only its target users sign in and posts "
                  "stay private (SELF_ONLY).")
    return ok("sandbox_audited", "A production key; TIKTOK_AUDITED="
              + ("true" if settings.audited else "false") + ".")


def authorize(http: requests.Session, settings: Settings,
              timeout: tuple[float, float]) -> list[Finding]:
    """The consent page for the broker's own request; if it names `scope`, which ones."""
    def attempt(scopes: tuple[str, ...]) -> tuple[int, str | None, bool]:
        found = try_authorize(http, auth_url=settings.auth_url, client_key=settings.client_key,
                              redirect_uri=settings.redirect_uri, scopes=scopes,
                              pkce=settings.pkce == "hex", timeout=timeout)
        return found.status, found.bad_param, found.error_page

    unknown = [s for s in settings.scopes if s not in KNOWN_SCOPES]
    typo = [warn("scopes", "TIKTOK_SCOPES names scopes TikTok does not document: "
                 + ", ".join(unknown) + ".", "Check the spelling (e.g. user.info.basic, "
                 "video.publish, video.list).")] if unknown else []
    try:
        status, bad, error_page = attempt(settings.scopes)
    except requests.RequestException as exc:
        return [fail("authorize", f"TikTok's authorize page at {settings.auth_url} did not "
                     f"answer ({type(exc).__name__}).", "Check TIKTOK_AUTH_URL."), *typo]
    if not error_page and status < 400:
        return [ok("authorize", "TikTok's authorize page accepts the broker's request."),
                *(typo or [ok("scopes", "TikTok accepts every scope in TIKTOK_SCOPES: "
                              + ",".join(settings.scopes) + ".")])]
    if bad == "scope":
        refused = [s for s in settings.scopes if attempt((s,))[1] == "scope"]
        return [fail("authorize", "TikTok's authorize page shows its error page naming "
                     "`scope`.", "See the scopes finding."),
                fail("scopes", "TikTok refuses these scopes for this app: "
                     + ", ".join(refused or settings.scopes) + ".",
                     "Add the product that grants each (Login Kit, Content Posting API, Display "
                     f"API) and get it approved in {PORTAL}, or remove it from TIKTOK_SCOPES.")]
    fix = FIXES.get(bad or "", "Compare TIKTOK_CLIENT_KEY, TIKTOK_REDIRECT_URI, TIKTOK_SCOPES "
                    "and TIKTOK_PKCE with the app's page in " + PORTAL + ".")
    named = f"naming `{bad}`" if bad else f"(HTTP {status})"
    return [fail("authorize", f"TikTok's authorize page shows its error page {named}: nobody "
                 "can sign in.", fix.format(redirect_uri=settings.redirect_uri)),
            *(typo or [warn("scopes", "Not checked: the authorize request fails first.",
                            "Fix the authorize finding, then run the doctor again.")])]


def clock(server_time: float | None, now: float) -> Finding:
    """Our clock against TikTok's `Date` (one-second resolution)."""
    if server_time is None:
        return warn("clock", "TikTok's answer carried no Date header to compare clocks with.",
                    "Make sure the machine syncs its clock (NTP, e.g. timedatectl set-ntp true).")
    skew = now - server_time
    if abs(skew) <= CLOCK_TOLERANCE:
        return ok("clock", f"Within {CLOCK_TOLERANCE} s of TikTok's ({skew:+.0f} s).")
    return fail("clock", f"This machine's clock is {skew:+.0f} s off TikTok's: webhook "
                "signatures look stale or from the future, and tokens expire early or late.",
                "Sync the clock (NTP: timedatectl set-ntp true, or chrony) and run again.")
