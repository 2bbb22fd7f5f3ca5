"""One valid broker environment for every test and benchmark: `valid_env(**overrides)`."""

from __future__ import annotations

# Fixed test secrets (never used outside tests).
TEST_JWT_SECRET = "Zq8-vL2xN5pR7tK0mW3yB6cE9gH1jA4dF_sU"  # 36 bytes, varied
TEST_ENCRYPTION_KEY = "xh2U0AbvJNNFsKXMoNkq0ZtIRyWV9ROV-hIH7xcOmWQ="
OTHER_ENCRYPTION_KEY = "3bKzPq1J9mN0v5XyA2cD7eF4gH6iJ8kL0mN2oP4qR6s="


def valid_env(**overrides: str) -> dict[str, str]:
    """A complete, valid production environment; `overrides` replace or (with "") remove."""
    env = {
        "TIKTOK_CLIENT_KEY": "awkey123",
        "TIKTOK_CLIENT_SECRET": "client-secret-value-that-must-stay-hidden",
        "TIKTOK_REDIRECT_URI": "https://broker.example.com/auth/callback",
        "SPA_URL": "https://app.example.com/",
        "JWT_SIGNING_KEY": TEST_JWT_SECRET,
        "TOKEN_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}
