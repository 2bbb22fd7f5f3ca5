"""In-process broker apps for tests of the HTTP layer: the test Redis, TikTok at a dead port."""

from __future__ import annotations

import os

from broker.config.settings import Settings
from tests.support.env import valid_env
from tests.support.processes import free_port

REDIS_URL = os.environ["TEST_REDIS_URL"]  # claimed for this run by tests/conftest.py
SPA = "http://localhost:5173"
CLIENT_SECRET = "http-policy-client-secret-0001"
TIKTOK = f"http://127.0.0.1:{free_port()}"  # nothing listens: TikTok is never called


def make_settings(**overrides: str) -> Settings:
    """Development settings wired to the test Redis and a TikTok that does not answer."""
    return Settings.from_env(valid_env(**{
        "BROKER_ENV": "development",
        "TIKTOK_CLIENT_KEY": "awkeyhttp",
        "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
        "TIKTOK_REDIRECT_URI": "http://127.0.0.1:8000/auth/callback",
        "TIKTOK_AUTH_URL": f"{TIKTOK}/v2/auth/authorize/",
        "TIKTOK_API_URL": TIKTOK,
        "TIKTOK_SCOPES": "user.info.basic,video.publish",
        "REDIS_URL": REDIS_URL,
        "SPA_URL": f"{SPA}/",
        "STATE_TTL": "300",
        **overrides,
    }))
