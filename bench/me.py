"""GET /api/me through the broker against a bare Flask baseline, under the same gunicorn settings.

    python -m bench me-cached   [--quick] [--rounds 3] [--seconds 10] [--connections 32]
    python -m bench me-uncached [--quick] ...

cached: the broker with its profile cache on (a real login, then wrk with the JWT; every request
verifies the JWT, checks the session, counts the rate limit and reads the cached profile) against
two baselines: `bench.baselines:bare_app`, which answers the same JSON with no auth and no Redis,
and `bench.baselines:floor_app`, the same JWT verification plus one Redis round trip (the floor
of a revocable, shared session in this stack).

uncached: the broker with PROFILE_CACHE_TTL=0 (every request also fetches the profile from the
sandbox, with the user's stored TikTok token) against `bench.baselines:forward_app`, which only
forwards to the same sandbox's /v2/user/info/ with a real access token over a pooled session.

Both apps run as `gunicorn <app> -c gunicorn.conf.py` with the same WEB_CONCURRENCY and
GUNICORN_THREADS; wrk runs baseline, broker, baseline, broker ... and the medians are compared.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import redis
import requests

from bench.common import (
    Load,
    broker_stack,
    default_workers,
    gunicorn,
    machine,
    machine_line,
    median,
    private_redis,
    save,
    say,
    table,
    wrk,
)
from tests.support.broker import JWT_ISSUER
from tests.support.env import TEST_ENCRYPTION_KEY, TEST_JWT_SECRET
from tests.support.flows import login
from tests.support.sandbox import ROOT


def stored_access_token(redis_url: str, open_id: str) -> str:
    """The user's TikTok access token as the broker stored it (opened with the test key)."""
    from broker.clock import SystemClock
    from broker.grants import GrantStore
    from broker.storage.vault import Vault
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        vault = Vault((base64.urlsafe_b64decode(TEST_ENCRYPTION_KEY),))
        grant = GrantStore(client, vault, SystemClock()).load(open_id)
    finally:
        client.close()
    assert grant is not None, "no stored grant after login"
    return grant.access_token


def run(kind: str, *, load: Load, rounds: int, warmup: float = 2.0,
        workers: int | None = None) -> dict[str, Any]:
    """Interleaved wrk runs of the baseline and the broker; raw runs plus medians and ratio."""
    assert kind in ("cached", "uncached")
    workers = workers or default_workers()
    cache_ttl = "600" if kind == "cached" else "0"
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "broker": []}
    if kind == "cached":
        runs = {"baseline": [], "floor": [], "broker": []}
    with private_redis() as redis_url, \
            broker_stack(redis_url, workers=workers, env={"PROFILE_CACHE_TTL": cache_ttl}) \
            as (sandbox, brokers):
        broker = brokers[0]
        jwt = login(broker.url, user="-000alice").access_token
        headers = {"Authorization": f"Bearer {jwt}"}
        first = requests.get(f"{broker.url}/api/me", headers=headers, timeout=10)
        first.raise_for_status()
        profile = first.json()
        if kind == "cached":
            app, env = "bench.baselines:bare_app", {"BENCH_ME_JSON": json.dumps(profile)}
        else:
            app, env = "bench.baselines:forward_app", {
                "BENCH_SANDBOX_URL": sandbox.url, "BENCH_FIELDS": ",".join(profile),
                "BENCH_TIKTOK_TOKEN": stored_access_token(redis_url, profile["open_id"])}
        floor_env = {"BENCH_ME_JSON": json.dumps(profile), "BENCH_REDIS_URL": redis_url,
                     "BENCH_JWT_SECRET": TEST_JWT_SECRET, "BENCH_JWT_ISSUER": JWT_ISSUER}
        with gunicorn(app, env, workers=workers, root=ROOT) as base, \
                optional_gunicorn(kind == "cached", "bench.baselines:floor_app", floor_env,
                                  workers) as floor:
            targets = {"baseline": base.url}
            if floor is not None:
                targets["floor"] = floor.url
            targets["broker"] = broker.url
            for name, url in targets.items():
                check = requests.get(f"{url}/api/me", headers=headers, timeout=10)
                check.raise_for_status()
                assert check.json() == profile, (name, check.json(), profile)
            wrk_env = {"BENCH_TOKEN": jwt}
            if warmup:
                for url in targets.values():
                    wrk(f"{url}/api/me", "bearer.lua",
                        Load(load.threads, load.connections, warmup), wrk_env)
            redis_side = redis.Redis.from_url(redis_url)
            redis_side.config_resetstat()
            for round_no in range(rounds):
                for name, url in targets.items():
                    result = wrk(f"{url}/api/me", "bearer.lua", load, wrk_env)
                    runs[name].append(result)
                    say(f"me-{kind} round {round_no + 1}/{rounds} {name}: "
                        f"{result['rps']:.0f} req/s, p50 {result['latency_us']['p50'] / 1000:.1f}"
                        f" ms, statuses {result['statuses']}")
            redis_cpu = redis_cpu_per_call(redis_side)
            if kind == "cached":  # the tail at one pace every contender carries
                rate = PACE * min(median([r["rps"] for r in rs]) for rs in runs.values())
                paced = paced_rounds(targets, load, rounds, rate, wrk_env)
            redis_side.close()
    summary = medians(runs)
    result = {"benchmark": f"me-{kind}", "load": load.label(), "rounds": rounds,
              "workers": workers, "threads_per_worker": 8, "profile_cache_ttl": cache_ttl,
              "machine": machine(), "runs": runs, "summary": summary,
              "ratio": summary["broker"]["rps"] / summary["baseline"]["rps"],
              "redis_us_per_call": redis_cpu}
    if kind == "cached":
        result["paced"] = paced
    if "floor" in summary:
        result["ratio_to_floor"] = summary["broker"]["rps"] / summary["floor"]["rps"]
        result["floor_ratio"] = summary["floor"]["rps"] / summary["baseline"]["rps"]
    return result


def redis_cpu_per_call(client: redis.Redis) -> dict[str, float]:
    """Redis's own CPU per call of each command since the last reset (INFO commandstats): what
    each contender's round trip costs the Redis server, beside what it costs the worker."""
    return {name.removeprefix("cmdstat_"): float(stats["usec_per_call"])
            for name, stats in client.info("commandstats").items()
            if stats.get("calls", 0) > 1000}


PACE = 0.5  # the paced runs offer this share of the slowest contender's saturated throughput


def paced_rounds(targets: dict[str, str], load: Load, rounds: int, rate: float,
                 wrk_env: dict[str, str]) -> dict[str, Any]:
    """Interleaved wrk runs at about `rate` req/s (bench/lua/paced.lua: each connection pauses
    between requests): the latency each contender adds, not the queue saturation builds."""
    delay_ms = max(1, round(1000 * load.connections / rate))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for round_no in range(rounds):
        for name, url in targets.items():
            result = wrk(f"{url}/api/me", "paced.lua", load,
                         {**wrk_env, "BENCH_DELAY_MS": str(delay_ms)})
            runs[name].append(result)
            say(f"paced round {round_no + 1}/{rounds} {name}: {result['rps']:.0f} req/s, "
                f"p99 {result['latency_us']['p99'] / 1000:.1f} ms")
    return {"delay_ms": delay_ms, "offered_rps": rate, "summary": medians(runs), "runs": runs}


def medians(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Each contender's median req/s, p50 and p99 over its runs; raises if any run had an
    answer other than 200 (or none at all)."""
    for name, results in runs.items():
        bad = [r["statuses"] for r in results if r["ok"] != r["counted"] or r["counted"] == 0]
        if bad:
            raise RuntimeError(f"{name}: responses other than 200: {bad}")
    return {name: {"rps": median([r["rps"] for r in rs]),
                   "p50_us": median([r["latency_us"]["p50"] for r in rs]),
                   "p99_us": median([r["latency_us"]["p99"] for r in rs])}
            for name, rs in runs.items()}


@contextlib.contextmanager
def optional_gunicorn(wanted: bool, app: str, env: dict[str, str],
                      workers: int) -> Iterator[Any]:
    """A baseline app under gunicorn when `wanted`, else None."""
    if not wanted:
        yield None
        return
    with gunicorn(app, env, workers=workers, root=ROOT) as server:
        yield server


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    base_label = ("bare Flask, same JSON" if result["benchmark"] == "me-cached"
                  else "Flask forwarding to the sandbox")

    def row(label: str, name: str, ratio: str) -> list[str]:
        return [label, f"{s[name]['rps']:.0f}", f"{s[name]['p50_us'] / 1000:.1f} ms",
                f"{s[name]['p99_us'] / 1000:.1f} ms", ratio]

    rows = [row(f"`{result['benchmark']}` broker", "broker", f"**{result['ratio']:.2f}**"
                + (f" (**{result['ratio_to_floor']:.2f}** of the floor)"
                   if "ratio_to_floor" in result else ""))]
    if "floor" in s:
        rows.append(row("floor: Flask + the same JWT check + one Redis GET", "floor",
                        f"{result['floor_ratio']:.2f}"))
    rows.append(row(f"baseline: {base_label}", "baseline", "1.00"))
    text = (table(["", "req/s (median)", "p50", "p99", "broker / baseline"], rows)
            + f"\n\n{result['load']}, {result['rounds']} interleaved rounds, "
            f"{result['workers']} workers x 8 threads each; {machine_line(result['machine'])}")
    if result.get("redis_us_per_call"):
        text += "\n\nRedis CPU per call (INFO commandstats, saturated rounds): " + ", ".join(
            f"{name} {us:.1f} µs" for name, us in sorted(result["redis_us_per_call"].items()))
    if "paced" in result:
        paced = result["paced"]
        text += (f"\n\nAt a fixed pace (each connection pauses {paced['delay_ms']} ms between "
                 f"requests; about {paced['offered_rps']:.0f} req/s offered):\n\n"
                 + table(["", "req/s", "p50", "p99"],
                         [[name, f"{v['rps']:.0f}", f"{v['p50_us'] / 1000:.2f} ms",
                           f"{v['p99_us'] / 1000:.2f} ms"]
                          for name, v in paced["summary"].items()]))
    return text


def main(kind: str, *, load: Load, rounds: int, quick: bool = False) -> dict[str, Any]:
    result = run(kind, load=load, rounds=rounds, warmup=0 if quick else 2.0)
    path = save(result["benchmark"], result)
    print(markdown(result))
    print(f"\nraw results: {path}")
    return result
