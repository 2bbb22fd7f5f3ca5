"""Start `python -m broker worker` as real processes (like tests/support/broker.py starts
gunicorn), wired to the same sandbox and Redis as the brokers under test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.support.broker import broker_env
from tests.support.sandbox import ROOT


class WorkerProcess:
    """A running worker (its own process group: RQ forks its scheduler) and its log."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: str,
                 env: dict[str, str]) -> None:
        self.process, self.log_path, self.env = process, log_path, env

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker process itself (a crash mid-job); its scheduler child lives on
        until stop()."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> None:
        """Stop the worker and everything it forked."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def worker_env(*, sandbox_url: str, redis_url: str, broker_port: int,
               env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a broker started by broker_factory(**env) has (same keys, same Redis)."""
    child = {k: v for k, v in os.environ.items()
             if not k.startswith(("TIKTOK_", "JWT_", "SPA_"))}
    child.update(broker_env(sandbox_url=sandbox_url, redis_url=redis_url, port=broker_port,
                            env=env))
    child["PYTHONPATH"] = str(ROOT)
    return child


def start_worker(env: dict[str, str], timeout: float = 20,
                 argv: list[str] | None = None) -> WorkerProcess:
    """Run `python -m broker worker` (or `argv`, a launcher of it) and wait until
    `python -m broker worker --check` passes and this process is the registered worker."""
    log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(argv or [sys.executable, "-m", "broker", "worker"], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log.close()
    worker = WorkerProcess(process, log.name, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{worker.log_text()}")
        if worker_check(env) == 0 and _registered(env, process.pid):
            return worker
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"worker did not start:\n{worker.log_text()[-3000:]}")


def worker_check(env: dict[str, str]) -> int:
    """The exit status of `python -m broker worker --check`."""
    return subprocess.run([sys.executable, "-m", "broker", "worker", "--check"], cwd=ROOT,
                          env=env, capture_output=True, timeout=30).returncode


def _registered(env: dict[str, str], pid: int) -> bool:
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        return any(str(pid) in (k.decode() if isinstance(k, bytes) else k)
                   for k in client.smembers("rq:workers"))
    finally:
        client.close()
