"""POST /auth/refresh through the broker against the floor of a rotating refresh, in one run.

    python -m bench refresh [--quick] [--rounds 3] [--seconds 10] [--connections 32]

Before the runs (untimed): 2 x connections real logins through the sandbox's consent form, each
leaving its browser a refresh cookie. wrk then refreshes with them as browsers do
(bench/lua/refresh.lua): each session's cookie is used by one request at a time and replaced by
the rotated one from the answer, so every request is a first use, never a reuse. Success means a
200 with a new JWT and a new cookie.

The baseline is `bench.baselines:refresh_floor_app` under the same gunicorn settings: one Redis
round trip (check the presented secret's digest, store the next), a JWT signed with the broker's
own JwtService, the new cookie: what any rotating, revocable refresh costs in this stack.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.baselines import refresh_floor_sessions
from bench.common import (
    Load,
    broker_stack,
    default_workers,
    gunicorn,
    machine,
    machine_line,
    private_redis,
    save,
    say,
    table,
    wrk,
)
from bench.me import medians
from tests.support.broker import JWT_ISSUER
from tests.support.env import TEST_JWT_SECRET
from tests.support.flows import SPA_ORIGIN, login
from tests.support.sandbox import ROOT
from tests.support.sandbox import TEST_USERS as USERS


def broker_cookies(broker_url: str, count: int) -> list[str]:
    """`count` real logins at the broker: each browser's refresh cookie."""
    def one(i: int) -> str:
        cookie = login(broker_url, user=USERS[i % len(USERS)]).browser.cookies.get(
            "broker_refresh")
        assert cookie, "no refresh cookie after login"
        return str(cookie)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def refreshes(url: str, cookies: list[str], load: Load) -> dict[str, Any]:
    """One wrk run of rotating refreshes at `url`, with these sessions' cookies."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(cookies) + "\n")
    try:
        return wrk(url, "refresh.lua", load, {"BENCH_LIST": listing.name,
                                              "BENCH_THREADS": str(load.threads),
                                              "BENCH_ORIGIN": SPA_ORIGIN})
    finally:
        os.unlink(listing.name)


def run(*, load: Load, rounds: int, warmup: float = 2.0,
        workers: int | None = None) -> dict[str, Any]:
    """Interleaved wrk runs of the floor and the broker; raw runs plus medians and ratio."""
    workers = workers or default_workers()
    sessions = 2 * load.connections
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "broker": []}
    with private_redis() as redis_url, broker_stack(redis_url, workers=workers) \
            as (_sandbox, brokers):
        floor_env = {"BENCH_REDIS_URL": redis_url, "BENCH_JWT_SECRET": TEST_JWT_SECRET,
                     "BENCH_JWT_ISSUER": JWT_ISSUER}
        with gunicorn("bench.baselines:refresh_floor_app", floor_env, workers=workers,
                      root=ROOT) as floor:
            # wrk's last answers are cut off when -d ends, their cookies lost: fresh sessions
            # for every run
            chains = {"floor": lambda: refresh_floor_sessions(redis_url, sessions),
                      "broker": lambda: broker_cookies(brokers[0].url, sessions)}
            targets = {"floor": floor.url, "broker": brokers[0].url}
            if warmup:
                for name, url in targets.items():
                    refreshes(url, chains[name](), Load(load.threads, load.connections, warmup))
            for round_no in range(rounds):
                for name, url in targets.items():
                    result = refreshes(url, chains[name](), load)
                    runs[name].append(result)
                    say(f"refresh round {round_no + 1}/{rounds} {name}: {result['rps']:.0f}"
                        f" req/s, p99 {result['latency_us']['p99'] / 1000:.1f} ms, "
                        f"statuses {result['statuses']}")
    summary = medians(runs)
    return {"benchmark": "refresh", "load": load.label(), "rounds": rounds, "workers": workers,
            "sessions": sessions, "machine": machine(), "runs": runs, "summary": summary,
            "ratio": summary["broker"]["rps"] / summary["floor"]["rps"]}


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]

    def row(label: str, name: str, ratio: str) -> list[str]:
        return [label, f"{s[name]['rps']:.0f}", f"{s[name]['p50_us'] / 1000:.1f} ms",
                f"{s[name]['p99_us'] / 1000:.1f} ms", ratio]

    return (table(["", "refreshes/s (median)", "p50", "p99", "broker / floor"],
                  [row("broker: `POST /auth/refresh`, the cookie rotated", "broker",
                       f"**{result['ratio']:.2f}**"),
                   row("floor: Flask + one Redis round trip + the same JWT signing", "floor",
                       "1.00")])
            + f"\n\n{result['load']}, {result['sessions']} sessions, {result['rounds']} "
            f"interleaved rounds, {result['workers']} workers x 8 threads each; "
            f"{machine_line(result['machine'])}")


def main(*, load: Load, rounds: int, quick: bool = False) -> dict[str, Any]:
    result = run(load=load, rounds=rounds, warmup=0 if quick else 2.0)
    path = save("refresh", result)
    print(markdown(result))
    print(f"\nraw results: {path}")
    return result
