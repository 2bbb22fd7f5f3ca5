"""Start the broker as real gunicorn processes (several workers) for black-box tests."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from tests.support.sandbox import ROOT, free_port

# Fixed test secrets (never used outside tests).
TEST_ENCRYPTION_KEY = "xh2U0AbvJNNFsKXMoNkq0ZtIRyWV9ROV-hIH7xcOmWQ="
TEST_JWT_SECRET = "test-only-jwt-secret-0123456789-abcdefghijklmnop"
CLIENT_KEY = "sbawdevclientkey"
CLIENT_SECRET = "sandbox-dev-client-secret"


def broker_env(*, sandbox_url: str, redis_url: str, port: int,
               env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a broker wired to this sandbox and Redis on 127.0.0.1:`port`."""
    base = {
        "BROKER_ENV": "development",
        "TIKTOK_CLIENT_KEY": CLIENT_KEY,
        "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
        "TIKTOK_REDIRECT_URI": f"http://127.0.0.1:{port}/auth/callback",
        "TIKTOK_AUTH_URL": f"{sandbox_url}/v2/auth/authorize/",
        "TIKTOK_API_URL": sandbox_url,
        "TIKTOK_SCOPES": "user.info.basic,user.info.profile,video.publish,video.upload",
        "TIKTOK_TIMEOUT": "3",
        "REDIS_URL": redis_url,
        "SPA_URL": "http://127.0.0.1:5173/",
        "JWT_SIGNING_KEY": TEST_JWT_SECRET,
        "TOKEN_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "JWT_ISSUER": "http://broker.test",
    }
    return {**base, **(env or {})}


class Broker:
    """A running gunicorn broker: its URL, its log file, and stop()."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: str,
                 env: dict[str, str]) -> None:
        self.process, self.url, self.log_path, self.env = process, url, log_path, env

    @property
    def redirect_uri(self) -> str:
        return self.env["TIKTOK_REDIRECT_URI"]

    def log_text(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_broker(*, sandbox_url: str, redis_url: str, port: int | None = None,
                 env: dict[str, str] | None = None, workers: int = 2) -> Broker:
    """Run `gunicorn app:app` (the production command) and wait until /healthz answers."""
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("TIKTOK_", "JWT_", "SPA_"))}
    child_env.update(broker_env(sandbox_url=sandbox_url, redis_url=redis_url, port=port, env=env))
    child_env.update(BROKER_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers),
                     PYTHONPATH=str(ROOT))
    log = tempfile.NamedTemporaryFile(prefix="broker-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(["gunicorn", "app:app", "-c", "gunicorn.conf.py"], cwd=ROOT,
                               env=child_env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    broker = Broker(process, f"http://127.0.0.1:{port}", log.name, child_env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"broker exited with {process.returncode}:\n{broker.log_text()[-3000:]}")
        try:
            if requests.get(f"{broker.url}/healthz", timeout=1).status_code == 200:
                return broker
        except requests.RequestException:
            pass
        time.sleep(0.1)
    broker.stop()
    raise RuntimeError(f"broker did not start:\n{broker.log_text()[-3000:]}")
