"""Run every doctor check in order and print the report (`python -m broker doctor`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

import requests

from broker.config.settings import Settings
from broker.doctor import public_side, tiktok_side
from broker.doctor.findings import Finding, print_report

CONNECT_TIMEOUT = 3.05


def diagnose(settings: Settings, *, now: Callable[[], float] = time.time) -> list[Finding]:
    """Every finding, TikTok's side first, then the public URL's; each call has a timeout."""
    timeout = (CONNECT_TIMEOUT, min(settings.tiktok_timeout, 10.0))
    with requests.Session() as http:
        http.headers["User-Agent"] = "tiktok-broker-doctor"
        found, server_time = tiktok_side.credentials(http, settings, timeout)
        answered_at = now()
        return [
            found,
            tiktok_side.sandbox_audit(settings),
            *tiktok_side.authorize(http, settings, timeout),
            public_side.callback(http, settings, timeout),
            public_side.verification_files(http, settings, timeout),
            public_side.webhook(http, settings, timeout),
            tiktok_side.clock(server_time, answered_at),
            public_side.trusted_proxies(http, settings, timeout),
        ]


def run(settings: Settings, out: TextIO) -> int:
    """Diagnose and print; the exit status is 1 when any finding is a problem."""
    print(f"tiktok-broker doctor: app {settings.client_key[:6]}..., TikTok at "
          f"{settings.api_url}, public URL {public_side.public_origin(settings)}", file=out)
    return print_report(diagnose(settings), out)
