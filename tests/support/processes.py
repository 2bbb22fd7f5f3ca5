"""Servers the tests and benchmarks run as real child processes: start, wait healthy, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import requests


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A child process serving HTTP at `url`, its output captured in the file `log_path`."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: str) -> None:
        self.process, self.url, self.log_path = process, url, log_path

    def log_text(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def stop(self, grace: float = 10) -> None:
        """Terminate the process; kill it if it is still there after `grace` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(argv: Sequence[str], *, name: str, cwd: Path,
          env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start `argv` with stdout and stderr going to a fresh log file; returns (process, log)."""
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env or os.environ), stdout=log,
                               stderr=subprocess.STDOUT)
    log.close()
    return process, log.name


def wait_healthy(server: ServerProcess, health_url: str, *, name: str,
                 timeout: float = 20) -> None:
    """Return once `health_url` answers 200; stop the server and raise if it dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.process.returncode}:\n"
                               f"{server.log_text()[-3000:]}")
        try:
            if requests.get(health_url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{name} did not answer at {health_url}:\n{server.log_text()[-3000:]}")
