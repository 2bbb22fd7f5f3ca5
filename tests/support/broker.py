"""Start the broker as real gunicorn processes (several workers) for black-box tests."""

from __future__ import annotations

import os
import subprocess

from tests.support.env import valid_env
from tests.support.processes import ServerProcess, free_port, spawn, wait_healthy
from tests.support.sandbox import ROOT

CLIENT_KEY = "sbawdevclientkey"
JWT_ISSUER = "http://broker.test"
CLIENT_SECRET = "sandbox-dev-client-secret"
SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload")


def broker_env(*, sandbox_url: str, redis_url: str, port: int,
               env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a broker wired to this sandbox and Redis on 127.0.0.1:`port`."""
    return valid_env(**{
        "BROKER_ENV": "development",
        "TIKTOK_CLIENT_KEY": CLIENT_KEY,
        "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
        "TIKTOK_REDIRECT_URI": f"http://127.0.0.1:{port}/auth/callback",
        "TIKTOK_AUTH_URL": f"{sandbox_url}/v2/auth/authorize/",
        "TIKTOK_API_URL": sandbox_url,
        "TIKTOK_SCOPES": ",".join(SCOPES),
        "TIKTOK_TIMEOUT": "3",
        "REDIS_URL": redis_url,
        "SPA_URL": "http://127.0.0.1:5173/",
        "JWT_ISSUER": JWT_ISSUER,
        **(env or {}),
    })


class Broker(ServerProcess):
    """A running gunicorn broker: its URL, its log file, its environment, and stop()."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: str,
                 env: dict[str, str]) -> None:
        super().__init__(process, url, log_path)
        self.env = env

    @property
    def redirect_uri(self) -> str:
        return self.env["TIKTOK_REDIRECT_URI"]


def start_broker(*, sandbox_url: str, redis_url: str, port: int | None = None,
                 env: dict[str, str] | None = None, workers: int = 2) -> Broker:
    """Run `gunicorn app:app` (the production command) and wait until /healthz answers."""
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("TIKTOK_", "JWT_", "SPA_"))}
    child_env.update(broker_env(sandbox_url=sandbox_url, redis_url=redis_url, port=port, env=env))
    child_env.update(BROKER_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers),
                     PYTHONPATH=str(ROOT))
    process, log_path = spawn(["gunicorn", "app:app", "-c", "gunicorn.conf.py"], name="broker",
                              cwd=ROOT, env=child_env)
    broker = Broker(process, f"http://127.0.0.1:{port}", log_path, child_env)
    wait_healthy(broker, f"{broker.url}/healthz", name="broker")
    return broker
