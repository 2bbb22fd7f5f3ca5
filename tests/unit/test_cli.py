"""`python -m broker` as an operator runs it: check-config and generate-keys, as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from broker.config.settings import Settings
from tests.support.env import valid_env

ROOT = Path(__file__).resolve().parents[2]
GOOD = valid_env()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with only `env` set among the broker's variables."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("TIKTOK_", "JWT_", "SPA_", "TOKEN_", "REDIS_", "BROKER_",
                                 "SESSION_", "STATE_", "LOGIN_", "PROFILE_", "REFRESH_",
                                 "UPLOAD_", "WEBHOOK_", "TRUSTED_"))}
    return subprocess.run([sys.executable, "-m", "broker", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env={**base, **(env or {})})


def test_check_config_lists_every_problem_and_exits_1() -> None:
    env = {**GOOD, "TIKTOK_CLIENT_SECRTE": "typo", "JWT_SIGNING_KEY": "weak",
           "TIKTOK_REDIRECT_URI": "http://broker.example.com/cb?x=1",
           "UPLOAD_CHUNK_SIZE": "1"}
    del env["TIKTOK_CLIENT_KEY"]
    result = run("check-config", env=env)
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    joined = "\n".join(problems)
    assert len(problems) >= 6, result.stderr
    for expected in ("TIKTOK_CLIENT_SECRTE: unknown variable", "TIKTOK_CLIENT_KEY: required",
                     "JWT_SIGNING_KEY", "must be https", "query parameters",
                     "UPLOAD_CHUNK_SIZE"):
        assert expected in joined
    assert "Traceback" not in result.stderr
    assert "weak" not in joined.replace("JWT_SIGNING_KEY", "")  # the secret is not echoed


def test_check_config_with_no_environment_names_the_required_variables() -> None:
    result = run("check-config", env={})
    assert result.returncode == 1
    for name in ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "TIKTOK_REDIRECT_URI",
                 "JWT_SIGNING_KEY", "TOKEN_ENCRYPTION_KEYS"):
        assert f"{name}: required" in result.stderr


def test_check_config_accepts_a_good_environment() -> None:
    result = run("check-config", env=GOOD)
    assert result.returncode == 0, result.stderr
    assert "configuration OK (production)" in result.stdout
    assert "/auth/callback" in result.stdout
    for secret in (GOOD["TIKTOK_CLIENT_SECRET"], GOOD["JWT_SIGNING_KEY"],
                   GOOD["TOKEN_ENCRYPTION_KEYS"]):
        assert secret not in result.stdout + result.stderr


def test_generate_keys_prints_keys_the_broker_accepts() -> None:
    result = run("generate-keys")
    assert result.returncode == 0, result.stderr
    printed = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert set(printed) == {"TOKEN_ENCRYPTION_KEYS", "JWT_SIGNING_KEY"}
    settings = Settings.from_env({**GOOD, **printed})
    assert settings.signing_keys[0].algorithm == "HS256"
    assert len(settings.encryption_keys) == 1
    second = run("generate-keys").stdout
    assert printed["JWT_SIGNING_KEY"] not in second  # fresh each time
    assert printed["TOKEN_ENCRYPTION_KEYS"] not in second
    # And the whole output, pasted into an environment, passes check-config.
    assert run("check-config", env={**GOOD, **printed}).returncode == 0


def test_unknown_command_is_a_usage_error() -> None:
    result = run("serve-forever")
    assert result.returncode == 2
    assert "check-config" in result.stderr
