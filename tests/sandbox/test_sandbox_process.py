"""Starting the sandbox: flags, environment, validation, concurrency."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time

import requests

from tests.support.sandbox import ROOT, free_port, start_sandbox


def _wait_health(url: str) -> bool:
    for _ in range(100):
        try:
            return requests.get(f"{url}/_sandbox/health", timeout=1).json() == {"status": "ok"}
        except requests.RequestException:
            time.sleep(0.05)
    return False


def test_port_flag_overrides_env():
    port = free_port()
    env = {**os.environ, "SANDBOX_PORT": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_health(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(5)


def test_env_configures_the_app():
    with start_sandbox(env={"SANDBOX_CLIENT_KEY": "sbawother", "SANDBOX_AUDITED": "true",
                            "SANDBOX_REDIRECT_URIS": "https://a.example/cb,https://b.example/cb",
                            "SANDBOX_ROTATION": "legacy"}) as sb:
        cfg = sb.config()
        assert cfg["client_key"] == "sbawother" and cfg["audited"] is True
        assert cfg["redirect_uris"] == ["https://a.example/cb", "https://b.example/cb"]
        assert cfg["effective_access_ttl"] == 86400


def test_invalid_env_refuses_to_start_listing_every_problem():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SANDBOX_PORT": str(free_port()),
           "SANDBOX_PKCE": "sometimes", "SANDBOX_ACCESS_TTL": "soon",
           "SANDBOX_REDIRECT_URIS": "ftp://x"}
    proc = subprocess.run([sys.executable, "-m", "sandbox"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2
    assert all(name in proc.stderr for name in ("pkce", "access_ttl", "redirect_uris"))


def test_fifty_concurrent_requests(tt, sandbox):
    tokens = tt.login()
    sandbox.configure(rate_limits=False)
    sandbox.fault("user_info", "latency", seconds=1.0)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda _: requests.get(
            f"{sandbox.url}/v2/user/info/?fields=open_id", timeout=20,
            headers=tt.bearer(tokens)).status_code, range(50)))
    assert codes == [200] * 50
    assert time.monotonic() - started < 5  # served concurrently, not one by one


def test_sigterm_stops_it_promptly():
    """`docker stop` sends SIGTERM to PID 1; the sandbox must exit, not wait for SIGKILL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_health(f"http://127.0.0.1:{port}")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
