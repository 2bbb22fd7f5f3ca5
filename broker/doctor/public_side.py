"""What the broker's public URL (the origin of TIKTOK_REDIRECT_URI) shows from outside: the
callback, TikTok's verification files, the webhook route, and what the proxies in front add."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from broker.config.settings import Settings
from broker.doctor.findings import Finding, fail, ok, warn

PROBE_PATH = "/doctor/probe"  # broker.views.doctor: what a request arrives as
WEBHOOK_PATH = "/webhooks/tiktok"


def public_origin(settings: Settings) -> str:
    """Scheme and host of the registered redirect URI: where TikTok and browsers reach us."""
    parts = urlsplit(settings.redirect_uri)
    return f"{parts.scheme}://{parts.netloc}"


def _broker_error(response: requests.Response) -> str | None:
    """The broker's error code when this is one of its JSON error answers, else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["error"]) if isinstance(body, dict) and "error" in body else None


def callback(http: requests.Session, settings: Settings,
             timeout: tuple[float, float]) -> Finding:
    """The registered redirect URI reaches this broker's callback, over https."""
    uri = settings.redirect_uri
    try:
        response = http.get(uri, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return fail("callback", f"{uri} cannot be reached ({type(exc).__name__}): TikTok "
                    "would send users back to nowhere.", "Start the broker and the tunnel or "
                    "proxy in front of it (e.g. ngrok http 8000) and update TIKTOK_REDIRECT_URI "
                    "and the URI registered at TikTok to its https address.")
    if _broker_error(response) != "invalid_state":
        return fail("callback", f"{uri} answers HTTP {response.status_code}, not the broker's "
                    "callback.", "Point the tunnel or proxy at the broker, and make the path of "
                    "TIKTOK_REDIRECT_URI the one the broker serves (it takes it from there).")
    if not uri.lower().startswith("https://"):
        return warn("callback", f"{uri} reaches the broker, but over http; TikTok accepts "
                    "only https redirect URIs.", "Serve it through an https tunnel or proxy "
                    "(ngrok http 8000) and register that https URL.")
    return ok("callback", f"{uri} reaches the broker's callback over https.")


def verification_files(http: requests.Session, settings: Settings,
                       timeout: tuple[float, float]) -> Finding:
    """Each TIKTOK_VERIFICATION_FILES entry is served at the public URL as TikTok will fetch it."""
    files = dict(settings.verification_files)
    if not files:
        return ok("verification_files", "None configured (needed only to verify a URL prefix "
                  "for pull-from-URL posts).")
    origin, wrong = public_origin(settings), []
    for name, content in files.items():
        try:
            response = http.get(f"{origin}/{name}", timeout=timeout, allow_redirects=False)
            if response.status_code != 200 or response.text.strip() != content.strip():
                wrong.append(f"{name} (HTTP {response.status_code})")
        except requests.RequestException as exc:
            wrong.append(f"{name} ({type(exc).__name__})")
    if wrong:
        return fail("verification_files", f"Not served as configured at {origin}/: "
                    + ", ".join(wrong) + ".", "Restart the broker behind the public URL with "
                    "this TIKTOK_VERIFICATION_FILES, and let the proxy pass these paths.")
    return ok("verification_files", f"{len(files)} file(s) served at {origin}/.")


def webhook(http: requests.Session, settings: Settings,
            timeout: tuple[float, float]) -> Finding:
    """The webhook route answers from outside (an unsigned test is refused, as it must be)."""
    url = public_origin(settings) + WEBHOOK_PATH
    try:
        response = http.post(url, data=b"{}", timeout=timeout, allow_redirects=False,
                             headers={"Content-Type": "application/json"})
    except requests.RequestException as exc:
        return fail("webhook", f"{url} cannot be reached ({type(exc).__name__}).",
                    "Expose the broker's /webhooks/tiktok through the public URL.")
    if _broker_error(response) is None or response.status_code >= 500:
        return fail("webhook", f"{url} answers HTTP {response.status_code}, not the broker's "
                    "webhook route: TikTok's events would be lost.", "Let the proxy or tunnel "
                    "pass POST /webhooks/tiktok to the broker, and set this URL as the webhook "
                    "callback in the app's page at TikTok.")
    return ok("webhook", f"{url} reaches the broker (set it as the webhook URL at TikTok).")


def trusted_proxies(http: requests.Session, settings: Settings,
                    timeout: tuple[float, float]) -> Finding:
    """TRUSTED_PROXIES against the X-Forwarded-For hops a request through the public URL gets."""
    url, trusted = public_origin(settings) + PROBE_PATH, settings.trusted_proxies
    try:
        response = http.get(url, timeout=timeout, allow_redirects=False)
        seen: Any = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        seen = None
    if not isinstance(seen, dict) or not isinstance(seen.get("forwarded_hops"), int):
        return warn("trusted_proxies", f"{url} did not answer the probe; TRUSTED_PROXIES="
                    f"{trusted} not checked.", "Run the doctor against the broker version it "
                    "comes with, behind the public URL.")
    hops = seen["forwarded_hops"]
    if hops > trusted:
        return fail("trusted_proxies", f"Requests through the public URL pass {hops} proxy(ies) "
                    f"but TRUSTED_PROXIES={trusted}: every client looks like the proxy (one "
                    "shared rate limit) and the broker sees http.", f"Set TRUSTED_PROXIES={hops}.")
    if hops < trusted:
        return fail("trusted_proxies", f"TRUSTED_PROXIES={trusted} but only {hops} proxy(ies) "
                    "add X-Forwarded-For: clients could forge their address and scheme.",
                    f"Set TRUSTED_PROXIES={hops}.")
    if settings.public_is_https and seen.get("scheme") != "https":
        return fail("trusted_proxies", "The broker sees http behind an https public URL.",
                    "Make the proxy send X-Forwarded-Proto: https.")
    return ok("trusted_proxies", f"TRUSTED_PROXIES={trusted} matches the {hops} proxy(ies) in "
              "front of the broker.")
