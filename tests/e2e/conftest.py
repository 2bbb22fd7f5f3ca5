"""End-to-end fixtures: real sandbox, real gunicorn broker, built SPA, headless Debian Chromium.

All three servers run on spare ports of localhost, wired through the environment, so the tests
never collide with a `scripts/dev` run. Redis is DB 2 (`E2E_REDIS_URL`), flushed at start.
On failure, a screenshot, the page HTML and the browser console land in test-artifacts/e2e/.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.broker import start_broker
from tests.support.sandbox import ROOT, Sandbox, free_port, start_sandbox
from tests.support.spa import Stack, build_and_serve

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
E2E_REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/2")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
JWT_TTL = 30  # the broker's minimum: every test also runs through background renewals
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e carries the e2e marker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can tell a failed test at teardown."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _start_stack(sandbox: Sandbox, redis_url: str, **broker_env: str) -> tuple[Stack, Path]:
    broker_port, spa_port = free_port(), free_port()
    broker_url = f"http://localhost:{broker_port}"
    config = sandbox.config()
    sandbox.configure(redirect_uris=[*config["redirect_uris"], f"{broker_url}/auth/callback"])
    broker = start_broker(
        sandbox_url=sandbox.url,
        redis_url=redis_url,
        port=broker_port,
        env={
            "TIKTOK_REDIRECT_URI": f"{broker_url}/auth/callback",
            "TIKTOK_SCOPES": "user.info.basic,user.info.profile,user.info.stats,"
                             "video.publish,video.upload",
            "SPA_URL": f"http://localhost:{spa_port}/",
            "JWT_TTL": str(JWT_TTL),
            **broker_env,
        },
    )
    try:
        spa, dist = build_and_serve(broker_url, spa_port)
    except Exception:
        broker.stop()
        raise
    return Stack(sandbox, broker, spa), dist


@pytest.fixture(scope="session")
def e2e_redis_url() -> Iterator[str]:
    """The e2e Redis database, flushed at start. Two e2e runs on one machine would flush each
    other's sessions, so a run holds an exclusive file lock per database until it ends."""
    lock_path = Path(tempfile.gettempdir()) / (
        "tiktok-broker-e2e-" + re.sub(r"[^A-Za-z0-9]+", "_", E2E_REDIS_URL) + ".lock")
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"\nwaiting for another e2e run using {E2E_REDIS_URL} to finish...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        client = redis.Redis.from_url(E2E_REDIS_URL)
        client.flushdb()
        client.close()
        yield E2E_REDIS_URL


@pytest.fixture(scope="session")
def e2e_sandbox() -> Iterator[Sandbox]:
    """A sandbox of our own (unaudited app, quick processing); brokers add their callbacks."""
    with start_sandbox(env={"SANDBOX_PROCESSING_SECONDS": "2",
                            "SANDBOX_REDIRECT_URIS": "http://localhost:1/unused"}) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def stack(e2e_sandbox: Sandbox, e2e_redis_url: str) -> Iterator[Stack]:
    """Sandbox + broker (fragment delivery, unaudited) + SPA built for that broker."""
    built, dist = _start_stack(e2e_sandbox, e2e_redis_url)
    e2e_sandbox.configure(webhook_url=f"{built.broker_url}/webhooks/tiktok")
    yield built
    built.spa.stop()
    built.broker.stop()
    shutil.rmtree(dist, ignore_errors=True)


@pytest.fixture(scope="session")
def handoff_stack(e2e_sandbox: Sandbox, e2e_redis_url: str) -> Iterator[Stack]:
    """A second broker in SPA_TOKEN_DELIVERY=handoff mode, with an SPA built for it."""
    built, dist = _start_stack(e2e_sandbox, e2e_redis_url, SPA_TOKEN_DELIVERY="handoff")
    yield built
    built.spa.stop()
    built.broker.stop()
    shutil.rmtree(dist, ignore_errors=True)


@pytest.fixture
def tiktok_sandbox(stack: Stack) -> Iterator[Sandbox]:
    """The e2e sandbox with a clear log and no faults."""
    stack.sandbox.reset_log()
    stack.sandbox.clear_faults()
    yield stack.sandbox
    stack.sandbox.clear_faults()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageLog:
    """What the page printed and which broker calls it made (with the bearer it sent)."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.calls: list[dict[str, Any]] = []

    def broker_calls(self, path_prefix: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["path"].startswith(path_prefix)]


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser profile (no cookies) per test."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page that records console output and broker calls; screenshots it on failure."""
    pg = context.new_page()
    log = PageLog()
    broker_origin = stack.broker_url

    def on_response(resp: Any) -> None:
        url = resp.url
        if url.startswith(broker_origin):
            req = resp.request
            log.calls.append({
                "method": req.method,
                "path": url[len(broker_origin):],
                "status": resp.status,
                "authorization": req.headers.get("authorization"),
            })

    pg.on("console", lambda msg: log.console.append(f"{msg.type}: {msg.text}"))
    pg.on("response", on_response)
    pg.log = log
    yield pg
    save_failure_artifacts(request, [pg, *[p for p in context.pages if p is not pg]], log)


def save_failure_artifacts(request: pytest.FixtureRequest, pages: list[Any],
                           log: PageLog | None) -> None:
    """On a failed test: screenshots, HTML and console output into test-artifacts/e2e/."""
    rep = getattr(request.node, "rep_call", None) or getattr(request.node, "rep_setup", None)
    if rep is None or not rep.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    for i, pg in enumerate(pages):
        suffix = "" if i == 0 else f"-{i}"
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=True)
            (ARTIFACTS / f"{name}{suffix}.html").write_text(pg.content())
        except Exception as exc:  # the page may be gone; keep what we can
            (ARTIFACTS / f"{name}{suffix}.error.txt").write_text(repr(exc))
    if log is not None:
        calls = "\n".join(f"{c['status']} {c['method']} {redact(c['path'])}" for c in log.calls)
        (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(log.console)
                                                       + "\n\n# broker calls\n" + calls)


def redact(path: str) -> str:
    """OAuth codes, states and login codes stay out of saved artifacts."""
    return re.sub(r"\b(code|state|login_code|access_token)=[^&#]*", r"\1=<redacted>", path)


@pytest.fixture(scope="session")
def sample_video(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2-second H.264 MP4 (640x360, 30 fps), recorded from a canvas by Chromium itself."""
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.set_content("<canvas id=c width=640 height=360></canvas>")
    b64 = pg.evaluate("""async () => {
      const type = ['video/mp4;codecs=avc1.42E01E', 'video/mp4']
        .find(t => MediaRecorder.isTypeSupported(t));
      if (!type) throw new Error('this Chromium cannot record MP4');
      const c = document.getElementById('c'), g = c.getContext('2d');
      const rec = new MediaRecorder(c.captureStream(30), {mimeType: type});
      const parts = []; rec.ondataavailable = e => parts.push(e.data);
      let f = 0;
      const draw = setInterval(() => {
        g.fillStyle = `hsl(${(f * 12) % 360}, 80%, 50%)`; g.fillRect(0, 0, 640, 360);
        g.fillStyle = '#fff'; g.font = '48px sans-serif'; g.fillText('e2e frame ' + f++, 40, 190);
      }, 33);
      rec.start();
      await new Promise(r => setTimeout(r, 2000));
      rec.stop();
      await new Promise(r => rec.onstop = r);
      clearInterval(draw);
      const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) {
        s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      }
      return btoa(s);
    }""")
    ctx.close()
    path = tmp_path_factory.mktemp("video") / "e2e-sample.mp4"
    path.write_bytes(base64.b64decode(b64))
    assert path.read_bytes()[4:8] == b"ftyp"
    return path
