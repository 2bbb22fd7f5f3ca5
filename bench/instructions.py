"""CPU instructions per cached GET /api/me, counted by valgrind: bare Flask, the floor, the broker.

    python -m bench.instructions [--calls 300] [--redis redis://127.0.0.1:6379/14]

wrk's throughput swings with whatever else the machine runs; an instruction count does not
(callgrind counts the same total for the same program and input, whatever the load). Each app
answers /api/me through its own WSGI callable, in-process (no gunicorn, no sockets to the
client; the floor and the broker still make their Redis round trip): 50 warm-up calls, then
`calls` more, each program run twice under callgrind (0 and `calls` timed calls) and the
difference divided by `calls`. The broker's metrics use multiprocess files, as under gunicorn.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable

from bench.baselines import make_bare_app, make_floor_app
from bench.breakdown import signed_in
from tests.support.env import TEST_JWT_SECRET

PROFILE = {"open_id": "-000alice", "display_name": "Alice", "avatar_url": "https://p16.example/a"}
APPS = ("bare", "floor", "broker")


def wsgi_call(app: Callable[..., object], environ: dict[str, object]) -> Callable[[], None]:
    """One request through a WSGI callable, its body read and closed; anything but a 200 stops
    the run (a count of error answers would measure nothing)."""
    def start_response(status: str, headers: object, exc_info: object = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"GET /api/me answered {status}")

    def call() -> None:
        out = app(dict(environ), start_response)
        for _ in out:  # type: ignore[attr-defined]
            pass
        out.close()  # type: ignore[attr-defined]
    return call


def inner(name: str, calls: int, redis_url: str) -> None:
    """Inside valgrind: build `name`, warm it up, answer `calls` requests."""
    from werkzeug.test import EnvironBuilder
    if name == "broker":
        with signed_in(redis_url) as (app, _svc, token):
            environ = EnvironBuilder(path="/api/me",
                                     headers={"Authorization": f"Bearer {token}"}).get_environ()
            _repeat(wsgi_call(app.wsgi_app, environ), calls)
        return
    from broker.auth.jwts import JwtService
    from broker.clock import SystemClock
    from broker.config.keys import load_signing_keys
    os.environ.update(BENCH_ME_JSON=json.dumps(PROFILE), BENCH_REDIS_URL=redis_url,
                      BENCH_JWT_SECRET=TEST_JWT_SECRET, BENCH_JWT_ISSUER="https://bench")
    app = make_bare_app() if name == "bare" else make_floor_app()
    token = JwtService(load_signing_keys(TEST_JWT_SECRET), issuer="https://bench",
                       audience="tiktok-broker", ttl=900, clock=SystemClock()).issue(
        "-000alice", "sid", ("user.info.basic",))
    environ = EnvironBuilder(path="/api/me",
                             headers={"Authorization": f"Bearer {token}"}).get_environ()
    _repeat(wsgi_call(app.wsgi_app, environ), calls)


def _repeat(call: Callable[[], None], calls: int) -> None:
    for _ in range(50 + calls):
        call()


def counted(name: str, calls: int, redis_url: str) -> int:
    """Instructions callgrind counts for one run of `inner(name, calls)`."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": scratch}
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out",
             os.path.realpath(sys.executable), "-m", "bench.instructions", "--inner", name,
             "--calls", str(calls), "--redis", redis_url],
            capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total: {done.stderr[-800:]}")
    return int(found.group(1))


def run(calls: int, redis_url: str) -> dict[str, int]:
    """Instructions per request of each app, by name."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed (Debian: apt-get install -y valgrind)")
    return {name: (counted(name, calls, redis_url) - counted(name, 0, redis_url)) // calls
            for name in APPS}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--inner", choices=APPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner, args.calls, args.redis)
        return
    per_request = run(args.calls, args.redis)
    print("| app | instructions per cached GET /api/me | app / broker |\n|---|---:|---:|")
    for name, count in per_request.items():
        print(f"| {name} | {count:,} | {count / per_request['broker']:.2f} |")


if __name__ == "__main__":
    main()
