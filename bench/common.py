"""Shared plumbing for the request benchmarks: processes, wrk, the machine, results, tables.

Every process listens on 127.0.0.1 only; every loop is bounded in count and in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests.support.broker import broker_env
from tests.support.processes import ServerProcess, spawn, wait_healthy
from tests.support.sandbox import ROOT, Sandbox, free_port, start_sandbox

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
LUA = BENCH / "lua"


# --- the broker source measured -------------------------------------------------

class Source:
    """The broker code under test: a clean export of a git revision (default HEAD), because the
    working tree is shared with engineers mid-edit; `--source .` measures the working tree."""

    root: Path = ROOT
    label: str = "working tree"


def use_source(rev: str) -> None:
    """Export `rev` (or use the working tree for ".") and import `broker` from there."""
    if rev == ".":
        Source.root, Source.label = ROOT, "working tree"
    else:
        commit = subprocess.run(["git", "rev-parse", "--short", f"{rev}^{{commit}}"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        target = Path(tempfile.gettempdir()) / f"tiktok-broker-bench-{commit}"
        if not (target / "app.py").exists():
            target.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        Source.root, Source.label = target, commit
    assert "broker" not in sys.modules, "broker was imported before its source was chosen"
    sys.path.insert(0, str(Source.root))


# --- the machine -------------------------------------------------

def machine() -> dict[str, Any]:
    """Cores, CPU model, Python and Redis versions, the commit measured (and whether dirty)."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True,
                                   text=True, check=False).stdout.strip()
    match = re.search(r"v=(\S+)", redis_version)
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        first = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        wrk_version = (first.stdout or first.stderr).split("[")[0].strip()
    commit = Source.label
    if Source.root == ROOT:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=ROOT, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "broker", "app.py",
                                "gunicorn.conf.py"], capture_output=True, text=True, cwd=ROOT,
                               check=False).stdout.strip()
        commit = head + (" + uncommitted broker changes" if dirty else "")
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "redis": match.group(1) if match else redis_version, "wrk": wrk_version,
            "commit": commit,
            "kernel": platform.release()}


def machine_line(info: dict[str, Any]) -> str:
    return (f"{info['cores']} cores ({info['cpu']}), Python {info['python']}, "
            f"Redis {info['redis']}, {info['wrk']}, commit {info['commit']}; load generator, "
            "servers and Redis all on this one machine")


# --- processes -------------------------------------------------

def default_workers() -> int:
    """gunicorn.conf.py's own default for WEB_CONCURRENCY on this machine."""
    return int(os.environ.get("WEB_CONCURRENCY", min((os.cpu_count() or 1) * 2, 8)))


@contextlib.contextmanager
def private_redis(*, maxmemory: str | None = None) -> Iterator[str]:
    """A throwaway redis-server on a spare loopback port, nothing on disk; yields its URL."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", workdir, "--logfile", f"{workdir}/redis.log"]
    if maxmemory:
        args += ["--maxmemory", maxmemory]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("private redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def gunicorn(app: str, env: dict[str, str], *, workers: int, health: str = "/healthz",
             port: int | None = None, root: Path | None = None) -> Iterator[ServerProcess]:
    """`gunicorn <app> -c gunicorn.conf.py` in `root` (the broker source measured, or the
    repository for the baselines), BROKER_BIND on a free loopback port, WEB_CONCURRENCY set."""
    port = port or free_port()
    root = root or Source.root
    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("TIKTOK_", "JWT_", "SPA_", "BENCH_"))}
    child_env.update({**env, "BROKER_BIND": f"127.0.0.1:{port}",
                      "WEB_CONCURRENCY": str(workers),
                      "PYTHONPATH": str(root)})
    conf = str(Source.root / "gunicorn.conf.py")  # the measured source's settings, for both
    process, log_path = spawn(["gunicorn", app, "-c", conf], name="bench-gunicorn", cwd=root,
                              env=child_env)
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_healthy(server, server.url + health, name=app)
        yield server
    finally:
        server.stop()
        os.unlink(log_path)


@dataclass
class BrokerProc:
    server: ServerProcess
    redirect_uri: str

    @property
    def url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def broker_stack(redis_url: str, *, workers: int, replicas: int = 1,
                 env: dict[str, str] | None = None
                 ) -> Iterator[tuple[Sandbox, list[BrokerProc]]]:
    """The sandbox and `replicas` brokers (`gunicorn app:app -c gunicorn.conf.py`, the
    production command, from the source measured) on one Redis, wired as the tests wire them."""
    # One user (one IP) at thousands of requests a second: the inbound rate limits stay on (their
    # cost is measured) but so high that nothing is refused. Older brokers ignore the variables.
    # RATE_LIMIT_ENABLED is said outright: the tests' environment is BROKER_ENV=development,
    # where the limits are off by default (and were off in every run before this line).
    env = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_API": "100000000/minute",
           "RATE_LIMIT_LOGIN": "100000000/minute", **(env or {})}
    with start_sandbox() as sandbox, contextlib.ExitStack() as stack:
        brokers: list[BrokerProc] = []
        for _ in range(replicas):
            port = free_port()
            child = broker_env(sandbox_url=sandbox.url, redis_url=redis_url, port=port, env=env)
            server = stack.enter_context(gunicorn("app:app", child, workers=workers, port=port))
            brokers.append(BrokerProc(server, child["TIKTOK_REDIRECT_URI"]))
        sandbox.configure(redirect_uris=[b.redirect_uri for b in brokers], rate_limits=False)
        yield sandbox, brokers


# --- wrk -------------------------------------------------

@dataclass(frozen=True)
class Load:
    """wrk's settings: threads, connections, seconds."""

    threads: int = 2
    connections: int = 32
    seconds: float = 10

    def args(self) -> list[str]:
        return [f"-t{self.threads}", f"-c{self.connections}", f"-d{self.seconds:g}s"]

    def label(self) -> str:
        return f"wrk {' '.join(self.args())}"


def wrk(url: str, script: str, load: Load, env: dict[str, str] | None = None,
        *, until_done: bool = False) -> dict[str, Any]:
    """Run wrk with bench/lua/stats.lua plus `script` (a file in bench/lua); its JSON summary.

    until_done: the script prints BENCH_THREAD_DONE when a thread has finished its share; once
    every thread has, wrk is interrupted (SIGINT: it then reports as usual, with the time so
    far), since wrk itself always waits out -d. -d stays the upper bound.
    """
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install -y wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as combined:
        combined.write((LUA / script).read_text() + "\n" + (LUA / "stats.lua").read_text())
    output: list[str] = []
    try:
        process = subprocess.Popen(
            [binary, *load.args(), "--timeout", "10s", "-s", combined.name, url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        timer = threading.Timer(load.seconds + 60, process.kill)  # a hung wrk is killed
        timer.start()
        try:
            finished = 0
            assert process.stdout is not None
            for line in process.stdout:
                output.append(line)
                if until_done and line.startswith("BENCH_THREAD_DONE"):
                    finished += 1
                    if finished == load.threads:
                        process.send_signal(signal.SIGINT)
            stderr = process.stderr.read() if process.stderr else ""
            process.wait()
        finally:
            timer.cancel()
    finally:
        os.unlink(combined.name)
    lines = [ln for ln in output if ln.startswith("BENCH_JSON ")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({process.returncode}): {''.join(output)[-1500:]} "
                           f"{stderr[-1500:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    result["statuses"] = {str(k): v for k, v in result.get("statuses", {}).items()}
    seconds = result["duration_us"] / 1e6
    result["seconds"] = seconds
    result["rps"] = result["counted"] / seconds if seconds else 0.0
    return result


def ok_fraction(result: dict[str, Any], good: Sequence[str]) -> float:
    total = sum(result["statuses"].values()) or 1
    return sum(result["statuses"].get(s, 0) for s in good) / total


# --- results -------------------------------------------------

def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def save(name: str, payload: dict[str, Any]) -> Path:
    """Raw results as JSON in bench/results/ (git-ignored); returns the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def fmt_ms(us: float) -> str:
    return f"{us / 1000:.1f} ms"


def say(*parts: object) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)
