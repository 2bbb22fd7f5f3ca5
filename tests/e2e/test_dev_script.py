"""`scripts/dev`, the README's first quick-start command: it starts sandbox, broker and SPA
wired together, prints the URL to open, and a Ctrl-C (SIGINT) stops all of them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from typing import Any

import psutil
import pytest
import requests
from playwright.sync_api import expect

from tests.support.browser import consent
from tests.support.sandbox import ROOT, free_port


class DevRun:
    """scripts/dev as a child process, its output collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "dev")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if m := re.search(pattern, line):
                    return m
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in scripts/dev output:\n{self.output()[-4000:]}")


@pytest.fixture
def dev_ports() -> dict[str, int]:
    return {"SANDBOX_PORT": free_port(), "BROKER_PORT": free_port(), "SPA_PORT": free_port()}


@pytest.mark.parametrize(("redis_url", "ctrl_c"), [
    # Nothing answers at REDIS_URL: a private redis-server starts; SIGINT to the script alone.
    ("redis://127.0.0.1:1/0", "script"),
    # The machine's Redis answers and is used; SIGINT to the whole process group, as a
    # terminal's Ctrl-C sends it.
    ("redis://127.0.0.1:6379/3", "group"),
], ids=["private-redis", "existing-redis"])
def test_scripts_dev_starts_everything_and_ctrl_c_stops_it(
        dev_ports: dict[str, int], browser: Any, redis_url: str, ctrl_c: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "JWT_", "SPA_"))}
    env.update({k: str(v) for k, v in dev_ports.items()})
    env["REDIS_URL"] = redis_url
    run = DevRun(env)
    try:
        m = run.wait_for(r"Open (http://localhost:\d+)", timeout=180)
        spa_url = m.group(1)
        assert spa_url == f"http://localhost:{dev_ports['SPA_PORT']}"
        if ctrl_c == "script":
            assert "starting a private redis-server" in run.output()
        else:
            assert f"using Redis at {redis_url}" in run.output()

        # All three servers answer on the ports asked for.
        sandbox = f"http://127.0.0.1:{dev_ports['SANDBOX_PORT']}"
        broker = f"http://127.0.0.1:{dev_ports['BROKER_PORT']}"
        assert requests.get(f"{sandbox}/_sandbox/health", timeout=5).status_code == 200
        assert requests.get(f"{broker}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{broker}/readyz", timeout=5).status_code == 200
        page = requests.get(spa_url + "/", timeout=5)
        assert page.status_code == 200 and '<div id="app">' in page.text

        # And they are wired together: a browser logs in through them.
        ctx = browser.new_context()
        try:
            tab = ctx.new_page()
            tab.goto(spa_url + "/")
            tab.get_by_test_id("login").click()
            consent(tab, user="-000alice")
            tab.wait_for_url(spa_url + "/")
            expect(tab.get_by_test_id("display-name")).to_have_text("Alice (public)")
        finally:
            ctx.close()

        children = psutil.Process(run.process.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children if c.is_running())
        for expected in ("sandbox", "gunicorn", "vite"):
            assert expected in names
        assert ("redis-server" in names) == (ctrl_c == "script")

        # Ctrl-C stops every server the script started.
        if ctrl_c == "script":
            run.process.send_signal(signal.SIGINT)
        else:
            os.killpg(run.process.pid, signal.SIGINT)
        assert run.process.wait(timeout=40) == 130
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"
        for port in dev_ports.values():
            with pytest.raises(requests.ConnectionError):
                requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait(10)
