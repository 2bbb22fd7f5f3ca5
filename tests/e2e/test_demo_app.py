"""The demo app (demo_app/, an app with its own users) in a real browser: sign in to the demo
app, connect two sandbox TikTok accounts through the broker's connect links, post the backend's
video to each through the service API, and see both posts complete."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.broker import start_broker
from tests.support.browser import consent
from tests.support.processes import ServerProcess, free_port, spawn, wait_healthy
from tests.support.sandbox import ROOT, Sandbox
from tests.support.spa import build_spa, serve_spa

SCOPES = "accounts:read,accounts:write,posts:write,posts:read"


@pytest.fixture(scope="module")
def demo(e2e_sandbox: Sandbox, e2e_redis_url: str) -> Iterator[str]:
    """Broker, demo app backend (with a key made by the CLI) and the SPA proxying /demo-app/ to
    it; the app marked audited here, so direct posts to a public account are allowed."""
    broker_port, spa_port, demo_port = free_port(), free_port(), free_port()
    broker_url, spa_url = f"http://localhost:{broker_port}", f"http://localhost:{spa_port}"
    before = e2e_sandbox.config()
    e2e_sandbox.configure(redirect_uris=[*before["redirect_uris"], f"{broker_url}/auth/callback"],
                          audited=True, posts_per_day=1000)
    broker = start_broker(sandbox_url=e2e_sandbox.url, redis_url=e2e_redis_url, port=broker_port,
                          env={"TIKTOK_REDIRECT_URI": f"{broker_url}/auth/callback",
                               "SPA_URL": f"{spa_url}/", "TIKTOK_AUDITED": "true"})
    made = subprocess.run([sys.executable, "-m", "broker", "service-keys", "create", "--name",
                           "demo", "--scopes", SCOPES], env=broker.env, cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=60)
    video = Path(tempfile.mkdtemp(prefix="demo-app-")) / "video.mp4"
    process, log = spawn([sys.executable, "-m", "demo_app", "--port", str(demo_port)],
                         name="demo-app", cwd=ROOT, env={
                             **os.environ, "BROKER_SERVICE_KEY": made.stdout.strip(),
                             "BROKER_URL": broker_url, "DEMO_RETURN_TO": f"{spa_url}/app",
                             "DEMO_VIDEO": str(video)})
    app = ServerProcess(process, f"http://127.0.0.1:{demo_port}", log)
    dist = Path(tempfile.mkdtemp(prefix="spa-dist-"))
    spa = None
    try:
        wait_healthy(app, f"{app.url}/healthz", name="demo app")
        build_spa(broker_url, dist)
        spa = serve_spa(dist, spa_port, env={"DEMO_APP_URL": app.url})
        yield spa_url
    finally:
        for server in (spa, app, broker):
            if server is not None:
                server.stop()
        e2e_sandbox.configure(**{k: before[k] for k in ("audited", "posts_per_day")})
        shutil.rmtree(dist, ignore_errors=True)
        shutil.rmtree(video.parent, ignore_errors=True)


def test_connect_two_accounts_and_post_to_each_from_the_backend(context: Any, demo: str) -> None:
    page = context.new_page()
    page.goto(f"{demo}/app")
    page.get_by_test_id("demo-username").fill("ben")
    page.get_by_test_id("demo-password").fill("ben-password")
    page.get_by_test_id("demo-sign-in").click()
    expect(page.get_by_test_id("demo-user")).to_have_text("ben")
    expect(page.get_by_test_id("demo-no-accounts")).to_be_visible()

    for user in ("-000alice", "-000bob"):  # the second one from a browser signed in to TikTok
        page.get_by_test_id("demo-connect").click()
        consent(page, user=user)  # TikTok's account choice is shown both times
        page.wait_for_url(f"{demo}/app")  # the fragment is read and cleared
        expect(page.get_by_test_id("demo-message")).to_have_text(f"Connected {user}.")
        expect(page.get_by_test_id(f"demo-account-{user}")).to_contain_text("active")
    assert "connected=" not in page.url

    for user in ("-000alice", "-000bob"):
        page.get_by_test_id(f"demo-post-{user}").click()
    for user in ("-000alice", "-000bob"):
        expect(page.get_by_test_id(f"demo-post-status-{user}")).to_have_text(
            "PUBLISH_COMPLETE", timeout=30_000)
