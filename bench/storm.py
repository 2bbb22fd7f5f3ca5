"""Refresh storm: 50 concurrent GET /api/me with an expired TikTok token across two replicas.

    python -m bench refresh-storm [--quick] [--storm-rounds 5] [--concurrency 50]

Two broker replicas (two gunicorn processes, production command, PROFILE_CACHE_TTL=0 so every
request uses the TikTok token) share one Redis. One real login; then rounds alternate:

- fresh (baseline): the token is valid; 50 requests released at once (a barrier, each on an
  already-open keep-alive connection, alternating between the replicas);
- expired: the sandbox expires the user's access token first, so every request gets TikTok's
  `access_token_invalid`, and the broker must refresh exactly once for all of them (a Redis
  lock across workers and replicas) and retry.

Reported per kind: refresh grants that reached the sandbox's token endpoint per round (must be
0 fresh, 1 expired), statuses, p50/p95/max latency over all requests of all rounds. This is a
burst of exactly N requests, not a sustained load, so it is driven by N Python threads rather
than wrk.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from bench.common import (
    broker_stack,
    default_workers,
    machine,
    machine_line,
    private_redis,
    save,
    say,
    table,
)
from tests.support.flows import login

USER = "-000alice"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def burst(urls: list[str], jwt: str, n: int) -> list[tuple[int, float]]:
    """N threads, each with its own warmed keep-alive connection, released together."""
    barrier = threading.Barrier(n + 1, timeout=30)
    results: list[tuple[int, float]] = [(0, 0.0)] * n

    def one(i: int) -> None:
        url = urls[i % len(urls)]
        with requests.Session() as http:
            http.get(f"{url}/healthz", timeout=10)  # opens the connection before the burst
            barrier.wait()
            started = time.perf_counter()
            try:
                status = http.get(f"{url}/api/me", headers={"Authorization": f"Bearer {jwt}"},
                                  timeout=30).status_code
            except requests.RequestException:
                status = 0
            results[i] = (status, time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join(60)
    return results


def run(*, rounds: int, concurrency: int, workers: int | None = None) -> dict[str, Any]:
    workers = workers or default_workers()
    rounds_out: list[dict[str, Any]] = []
    with private_redis() as redis_url, \
            broker_stack(redis_url, workers=workers, replicas=2,
                         env={"PROFILE_CACHE_TTL": "0"}) as (sandbox, brokers):
        jwt = login(brokers[0].url, user=USER).access_token
        urls = [b.url for b in brokers]
        for url in urls:  # the JWT works on both replicas
            requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {jwt}"},
                         timeout=10).raise_for_status()
        for round_no in range(rounds):
            for kind in ("fresh", "expired"):
                if kind == "expired":
                    assert sandbox.expire_token(USER) >= 1
                sandbox.reset_log()
                answers = burst(urls, jwt, concurrency)
                refreshes = len(sandbox.requests(endpoint="token", grant_type="refresh_token"))
                statuses: dict[str, int] = {}
                for status, _ in answers:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                rounds_out.append({"kind": kind, "refresh_grants": refreshes,
                                   "statuses": statuses,
                                   "latencies_s": [s for _, s in answers]})
                say(f"storm round {round_no + 1}/{rounds} {kind}: {refreshes} refresh grant(s),"
                    f" statuses {statuses}, max {max(s for _, s in answers) * 1000:.0f} ms")
                time.sleep(0.5)
    summary: dict[str, Any] = {}
    for kind in ("fresh", "expired"):
        mine = [r for r in rounds_out if r["kind"] == kind]
        latencies = [s for r in mine for s in r["latencies_s"]]
        statuses: dict[str, int] = {}
        for r in mine:
            for status, count in r["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        summary[kind] = {"refresh_grants_per_round": [r["refresh_grants"] for r in mine],
                         "statuses": statuses, "p50_s": percentile(latencies, 50),
                         "p95_s": percentile(latencies, 95), "max_s": max(latencies)}
    expected = {"fresh": 0, "expired": 1}
    problems = [f"{kind}: refresh grants {summary[kind]['refresh_grants_per_round']}, "
                f"statuses {summary[kind]['statuses']}" for kind in expected
                if set(summary[kind]["refresh_grants_per_round"]) != {expected[kind]}
                or set(summary[kind]["statuses"]) != {"200"}]
    return {"benchmark": "refresh-storm", "concurrency": concurrency, "rounds": rounds,
            "replicas": 2, "workers": workers, "machine": machine(), "rounds_raw": rounds_out,
            "summary": summary, "problems": problems,
            "ratio_p95": summary["expired"]["p95_s"] / summary["fresh"]["p95_s"]}


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    rows = []
    for kind, label in (("expired", "expired TikTok token"),
                        ("fresh", "baseline: fresh token")):
        grants = s[kind]["refresh_grants_per_round"]
        rows.append([label, ", ".join(map(str, grants)),
                     ", ".join(f"{k}: {v}" for k, v in sorted(s[kind]["statuses"].items())),
                     f"{s[kind]['p50_s'] * 1000:.0f} ms", f"{s[kind]['p95_s'] * 1000:.0f} ms",
                     f"{s[kind]['max_s'] * 1000:.0f} ms"])
    verdict = ("every expired round: exactly 1 refresh grant reached TikTok; every request 200"
               if not result["problems"] else "PROBLEMS: " + "; ".join(result["problems"]))
    return (table(["", "refresh grants at TikTok per round", "statuses (all rounds)", "p50",
                   "p95", "max"], rows)
            + f"\n\n{result['concurrency']} concurrent `GET /api/me`, {result['rounds']} rounds "
            f"of each kind (interleaved), 2 replicas x {result['workers']} workers x 8 threads, "
            f"PROFILE_CACHE_TTL=0; p95 expired / fresh = {result['ratio_p95']:.2f}. {verdict}. "
            f"{machine_line(result['machine'])}")


def main(*, rounds: int, concurrency: int) -> dict[str, Any]:
    result = run(rounds=rounds, concurrency=concurrency)
    path = save("refresh-storm", result)
    print(markdown(result))
    print(f"\nraw results: {path}")
    if result["problems"]:
        raise SystemExit(1)
    return result
