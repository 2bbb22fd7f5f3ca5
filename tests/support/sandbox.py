"""Start the TikTok sandbox as a real subprocess and drive its control API (/_sandbox/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.support.processes import ServerProcess, free_port, spawn, wait_healthy

ROOT = Path(__file__).resolve().parents[2]


# The sandbox's built-in test users (sandbox/users.py): public, private, banned, at the cap.
TEST_USERS = ("-000alice", "-000bob", "-000carol", "-000dave")


class Sandbox(ServerProcess):
    """A running sandbox process: its base URL (no trailing slash) plus control API helpers."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: str) -> None:
        super().__init__(process, url, log_path)
        self.http = requests.Session()

    def stop(self, grace: float = 5) -> None:
        """Terminate the process (kill it after `grace` seconds)."""
        self.http.close()
        super().stop(grace)

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.http.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kw)
        resp.raise_for_status()
        return resp.json()

    # --- control helpers -----------------------------------------------------------------------
    def requests(self, endpoint: str | None = None, grant_type: str | None = None
                 ) -> list[dict[str, Any]]:
        """Logged requests to emulated TikTok endpoints, optionally filtered."""
        params = {k: v for k, v in (("endpoint", endpoint), ("grant_type", grant_type)) if v}
        return list(self._call("GET", "requests", params=params)["requests"])

    def reset_log(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "requests")

    def fault(self, endpoint: str, kind: str, **kw: Any) -> dict[str, Any]:
        """Inject a fault: latency, status, rate_limit, malformed, error_200, drop, redirect."""
        return dict(self._call("POST", "faults", json={"endpoint": endpoint, "kind": kind, **kw}))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._call("DELETE", "faults")

    def expire_token(self, open_id: str) -> int:
        """Expire all access tokens of a user; returns how many were live."""
        return int(self._call("POST", f"users/{open_id}/expire-token")["expired"])

    def disconnect(self, open_id: str) -> int:
        """The user removes the app: grants revoked, authorization.removed webhook sent."""
        return int(self._call("POST", f"users/{open_id}/disconnect")["revoked"])

    def configure(self, **switches: Any) -> dict[str, Any]:
        """Change settings at runtime; returns the full new configuration."""
        return dict(self._call("POST", "config", json=switches))

    def config(self) -> dict[str, Any]:
        """The current configuration."""
        return dict(self._call("GET", "config"))

    def reset(self) -> None:
        """Restore the start-up state (tokens, tasks, log, faults, webhooks, config, clock)."""
        self._call("POST", "reset")

    def advance_clock(self, seconds: float) -> None:
        """Move sandbox time forward."""
        self._call("POST", "clock", json={"advance": seconds})

    def issued(self) -> dict[str, Any]:
        """Every code and token issued in this run, plus the client secret."""
        return dict(self._call("GET", "issued"))

    def upload(self, publish_id: str) -> dict[str, Any]:
        """A task's declared chunk plan and every PUT it received."""
        return dict(self._call("GET", f"uploads/{publish_id}"))

    def fail_publish(self, publish_id: str, reason: str = "internal") -> dict[str, Any]:
        """Force a publish task to FAILED with ``reason``."""
        return dict(self._call("POST", f"publish/{publish_id}/fail", json={"reason": reason}))

    def clear_webhooks(self) -> None:
        """Forget webhook deliveries, pending ones included (no retry lands in a later test)."""
        self._call("DELETE", "webhooks")

    def webhooks(self) -> list[dict[str, Any]]:
        """Webhook delivery attempts so far."""
        return list(self._call("GET", "webhooks")["deliveries"])


def start_sandbox(port: int | None = None, env: dict[str, str] | None = None) -> Sandbox:
    """Run ``python -m sandbox`` on ``port`` (a free one by default) and wait for health."""
    port = port or free_port()
    child_env = {**os.environ, "SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": str(port),
                 **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    process, log_path = spawn([sys.executable, "-m", "sandbox"], name="sandbox", cwd=ROOT,
                              env=child_env)
    sandbox = Sandbox(process, f"http://127.0.0.1:{port}", log_path)
    wait_healthy(sandbox, f"{sandbox.url}/_sandbox/health", name="sandbox", timeout=15)
    return sandbox
