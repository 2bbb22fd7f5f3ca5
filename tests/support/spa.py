"""Build the demo SPA for a given broker and serve it with `vite preview`, for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.broker import Broker
from tests.support.processes import ServerProcess, free_port, spawn, wait_healthy
from tests.support.sandbox import ROOT, Sandbox

SPA_DIR = ROOT / "spa"
VITE = SPA_DIR / "node_modules" / ".bin" / "vite"


def ensure_npm_packages() -> None:
    """`npm ci` in spa/ when node_modules is missing or older than the lock file."""
    stamp = SPA_DIR / "node_modules" / ".package-lock.json"
    lock = SPA_DIR / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime and VITE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to build the SPA (Node.js 20.19+)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SPA_DIR,
                   check=True)


def build_spa(broker_url: str, out_dir: Path) -> Path:
    """`vite build` with VITE_BROKER_URL baked in, into out_dir (outside spa/dist)."""
    ensure_npm_packages()
    env = {**os.environ, "VITE_BROKER_URL": broker_url}
    result = subprocess.run([str(VITE), "build", "--outDir", str(out_dir), "--emptyOutDir",
                             "--logLevel", "warn"], cwd=SPA_DIR, env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(f"vite build failed:\n{result.stdout}\n{result.stderr}")
    return out_dir


class SpaServer(ServerProcess):
    """A `vite preview` process serving a built SPA at http://localhost:<port>."""


def serve_spa(dist: Path, port: int | None = None,
              env: dict[str, str] | None = None) -> SpaServer:
    """Serve `dist` with `vite preview` on localhost:`port` and wait until it answers (`env`:
    extra variables, e.g. DEMO_APP_URL, where vite's proxy sends /demo-app/)."""
    port = port or free_port()
    process, log_path = spawn(
        [str(VITE), "preview", "--outDir", str(dist), "--host", "127.0.0.1", "--port", str(port),
         "--strictPort"], name="spa", cwd=SPA_DIR, env={**os.environ, **(env or {})})
    server = SpaServer(process, f"http://localhost:{port}", log_path)
    wait_healthy(server, f"http://127.0.0.1:{port}/", name="vite preview")
    return server


def build_and_serve(broker_url: str, port: int | None = None) -> tuple[SpaServer, Path]:
    """Build for `broker_url` into a temporary folder and serve it; caller stops and cleans."""
    dist = Path(tempfile.mkdtemp(prefix="spa-dist-"))
    build_spa(broker_url, dist)
    return serve_spa(dist, port), dist


@dataclass
class Stack:
    """The three servers of one wiring."""

    sandbox: Sandbox
    broker: Broker
    spa: SpaServer

    @property
    def broker_url(self) -> str:
        return f"http://localhost:{self.broker.url.rsplit(':', 1)[1]}"
