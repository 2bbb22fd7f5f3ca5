"""Posting benchmark (issue #12): `source_url` media and scheduled posts through one worker.

    python -m bench.posting_bench [--quick]

Everything on 127.0.0.1: a private redis-server, the TikTok sandbox (caps of §5.9 and rate
limits lifted, no latency), a one-worker gunicorn broker (the production command), one
`python -m broker worker` process (RQ's SimpleWorker: jobs run in that process) and a local
https media server with a test CA (tests/support/media_server.py).

1. `source_url`: for each size, the worker fetches the file from the media server and streams it
   to the sandbox as a chunked upload; time from `POST /api/videos` until the post is handed to
   TikTok's processing, and the worker's peak RSS (VmHWM, reset before each run). Baseline in the
   same run: the same bytes PUT to `/api/uploads/<id>` (bench/upload_bench.py) and the gunicorn
   worker's peak RSS.
2. Scheduled posts: N `video_url` posts created with one `publish_at`; time from that moment
   until the worker has started every one at TikTok (a publish_id; status `processing` or
   later). The broker's own init budget (6 a minute per user, TikTok's §7 limit) would spread
   them over minutes, so the capacity run starts the worker with that budget lifted (the module
   constant, in the benchmark's process only); a second run, the worker as shipped, shows the
   budget at work: 6 started, the rest deferred (`init_rate_limit`).

Bounded: every wait has a deadline. Not part of `python -m bench all`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psutil
import redis
import requests

from bench.common import broker_stack, machine, machine_line, private_redis, save, say, table
from bench.upload_bench import PeakRss, broker_upload
from tests.support.media_server import MediaServer
from tests.support.posting import MEDIA, bearer
from tests.support.worker import WorkerProcess, start_worker, worker_env

MIB = 1024 * 1024
STARTED = ("processing", "published", "inbox")
INFO = {"privacy_level": "SELF_ONLY", "title": "bench"}
LIFTED = ("import runpy, sys\nimport broker.jobs.runner as runner\n"
          "runner.INIT_LIMIT = 10**9  # the benchmark measures the worker, not the budget\n"
          "sys.argv = ['broker', 'worker']\n"
          "runpy.run_module('broker', run_name='__main__', alter_sys=True)\n")


def start_lifted_worker(env: dict[str, str], timeout: float = 30) -> WorkerProcess:
    """`python -m broker worker` with the per-user init budget lifted, started and awaited as
    tests/support/worker.py starts any worker."""
    return start_worker(env, timeout, argv=[sys.executable, "-c", LIFTED])


@contextlib.contextmanager
def running(worker: WorkerProcess) -> Iterator[WorkerProcess]:
    try:
        yield worker
    finally:
        worker.stop()
        with contextlib.suppress(OSError):
            os.unlink(worker.log_path)


def statuses(client: redis.Redis, ids: list[str]) -> list[dict[str, Any]]:
    """The post records, read straight from Redis (no load on the broker while timing)."""
    raws = client.mget([f"tb:post:{i}" for i in ids])
    return [json.loads(r) if r else {} for r in raws]


def source_url_run(url: str, auth: dict[str, str], media: MediaServer, size: int,
                   worker: psutil.Process, client: redis.Redis) -> dict[str, Any]:
    """One `source_url` post: seconds until handed to TikTok, the worker's idle and peak RSS."""
    idle = worker.memory_info().rss
    with PeakRss(worker) as rss:
        begun = time.perf_counter()
        answer = requests.post(f"{url}/api/videos", headers=auth, timeout=60, json={
            "mode": "direct", "post_info": INFO, "source_url": media.url(f"/video?size={size}")})
        if answer.status_code != 202:
            raise RuntimeError(f"source_url refused: {answer.status_code} {answer.text}")
        post_id = answer.json()["post_id"]
        deadline = time.monotonic() + 60 + size / MIB  # at least 1 MiB/s, or give up
        while True:
            record = statuses(client, [post_id])[0]
            if record.get("status") in STARTED:
                break
            if record.get("status") == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"source_url post did not finish: {record}")
            time.sleep(0.02)
        seconds = time.perf_counter() - begun
    return {"seconds": seconds, "idle": idle, "peak": rss.peak}


def schedule(url: str, auth: dict[str, str], n: int, lead: float) -> tuple[list[str], float, float]:
    """N posts due at one moment `lead` seconds ahead: (ids, due time, seconds to create)."""
    due = time.time() + lead
    at = datetime.fromtimestamp(due, UTC).isoformat()
    body = {"kind": "video", "mode": "direct", "video_url": MEDIA + "clip.mp4",
            "post_info": INFO, "publish_at": at}
    ids, begun = [], time.perf_counter()
    with requests.Session() as session:
        for _ in range(n):
            answer = session.post(f"{url}/api/posts", json=body, headers=auth, timeout=30)
            if answer.status_code != 202:
                raise RuntimeError(f"POST /api/posts: {answer.status_code} {answer.text}")
            ids.append(answer.json()["post_id"])
    created = time.perf_counter() - begun
    if time.time() > due:
        raise RuntimeError(f"creating {n} posts took {created:.1f} s, past their publish_at")
    return ids, due, created


def until(client: redis.Redis, ids: list[str], done: tuple[str, ...], due: float,
          limit: float) -> dict[str, Any]:
    """Wait (at most `limit` s after `due`) until every post's status is in `done`."""
    first = last = None
    while True:
        records = statuses(client, ids)
        now = time.time()
        finished = [r for r in records if r.get("status") in done and r.get("attempts", 0)
                    and (r.get("publish_id") or r.get("status") not in STARTED)]
        if finished and first is None:
            first = now - due
        if len(finished) == len(ids):
            last = now - due
            break
        if now > due + limit:
            break
    counts: dict[str, int] = {}
    for record in records:
        counts[str(record.get("status"))] = counts.get(str(record.get("status")), 0) + 1
    return {"first": first, "last": last, "counts": counts, "n": len(ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 MiB, 20 posts, one run each")
    args = parser.parse_args()
    sizes = [16 * MIB] if args.quick else [64 * MIB, 256 * MIB]
    repeat, n = (1, 20) if args.quick else (3, 200)
    info = machine()
    results: dict[str, Any] = {"machine": info, "quick": args.quick, "source_url": [],
                               "posts": {}}
    media = MediaServer()
    env = {"MEDIA_SOURCE_HOSTS": "localhost", "MEDIA_SOURCE_CA_FILE": str(media.ca_path),
           "MEDIA_SOURCE_TIMEOUT": "300"}
    try:
        with private_redis() as redis_url, broker_stack(redis_url, workers=1, env=env) as (
                sandbox, brokers):
            broker = brokers[0]
            sandbox.configure(posts_per_day=1_000_000, pending_share_cap=1_000_000,
                              audited=True, processing_seconds=1)
            client = redis.Redis.from_url(redis_url, decode_responses=True)
            port = int(broker.url.rsplit(":", 1)[1])
            child = worker_env(sandbox_url=sandbox.url, redis_url=redis_url, broker_port=port,
                               env=env)
            bob = bearer(broker.url)
            alice = bearer(broker.url, "-000alice")
            web = psutil.Process(broker.server.process.pid).children()[0]

            say("source_url against PUT /api/uploads, one worker")
            with running(start_worker(child)) as stock:
                horse = psutil.Process(stock.pid)
                for size in sizes:
                    fetched = [source_url_run(broker.url, bob, media, size, horse, client)
                               for _ in range(repeat)]
                    put = [broker_upload(broker.url, bob, size, web) for _ in range(repeat)]
                    results["source_url"].append({"size": size, "source_url": fetched,
                                                  "upload": put})
                    say(f"{size // MIB} MiB: source_url "
                        f"{statistics.median(r['seconds'] for r in fetched):.2f} s, PUT "
                        f"{statistics.median(r['seconds'] for r in put):.2f} s")

            say(f"{n} scheduled posts, one worker, init budget lifted")
            before = len(sandbox.requests("video_init"))  # the uploads above started some
            with running(start_lifted_worker(child)):
                ids, due, created = schedule(broker.url, bob, n, lead=5 + n * 0.06)
                capacity = until(client, ids, STARTED, due, limit=120 + n)
            inits = len(sandbox.requests("video_init")) - before  # each start heard once
            results["posts"]["capacity"] = {**capacity, "created_s": created,
                                            "sandbox_inits": inits}
            say(f"capacity: {capacity}")

            say(f"{n} scheduled posts, one worker as shipped (6 inits a minute per user)")
            with running(start_worker(child)):
                ids, due, created = schedule(broker.url, alice, n, lead=5 + n * 0.06)
                shipped = until(client, ids, (*STARTED, "deferred"), due, limit=120 + n)
            results["posts"]["shipped"] = {**shipped, "created_s": created,
                                           "sandbox_inits": len(sandbox.requests("video_init"))
                                           - inits - before}
            say(f"as shipped: {shipped}")
    finally:
        media.stop()
        shutil.rmtree(media.directory, ignore_errors=True)
    path = save("posting", results)
    report(results, info, path)


def report(results: dict[str, Any], info: dict[str, Any], path: Any) -> None:
    """The Markdown tables."""
    print(f"Machine: {machine_line(info)}\n")
    rows = []
    for entry in results["source_url"]:
        mib = entry["size"] / MIB
        for name, runs in (("`source_url` (worker)", entry["source_url"]),
                           ("PUT /api/uploads (gunicorn worker)", entry["upload"])):
            seconds = statistics.median(r["seconds"] for r in runs)
            idle = min(r["idle"] for r in runs) / MIB
            peak = max(r["peak"] for r in runs) / MIB
            rows.append([f"{mib:.0f} MiB", name, f"{seconds:.2f} s", f"{mib / seconds:.0f} MiB/s",
                         f"{idle:.0f} -> {peak:.0f} MiB (+{peak - idle:.0f})"])
    print(table(["file", "path", "time (median)", "throughput", "process RSS idle -> peak"],
                rows))
    capacity, shipped = results["posts"]["capacity"], results["posts"]["shipped"]
    n = capacity["n"]
    print()
    rows = []
    if capacity["last"]:
        rate = n / capacity["last"]
        steady = (n - 1) / max(capacity["last"] - capacity["first"], 1e-6)
        rows.append([f"{n} posts, init budget lifted", f"{capacity['first']:.2f} s",
                     f"{capacity['last']:.2f} s", f"{rate:.1f} posts/s ({steady:.1f} posts/s)",
                     f"{rate * 86400:,.0f}", str(capacity["counts"])])
    else:
        rows.append([f"{n} posts, init budget lifted", "-", "timed out", "-", "-",
                     str(capacity["counts"])])
    rows.append([f"{n} posts, as shipped", f"{shipped['first'] or 0:.2f} s",
                 f"{shipped['last']:.2f} s" if shipped["last"] else "timed out",
                 "budget: 6 starts/min per user", "", str(shipped["counts"])])
    print(table(["scheduled posts, one worker", "first handled (after publish_at)",
                 "all handled", "posts/s from publish_at (first to last)", "a day at that rate",
                 "statuses"], rows))
    print(f"\nTikTok's caps: about 15 posts a day per creator (§5.9), 6 init calls a minute "
          f"per user token (§7) = 0.1 posts/s per user. Inits the sandbox received: "
          f"{capacity['sandbox_inits']} / {shipped['sandbox_inits']}. Created in "
          f"{capacity['created_s']:.1f} s / {shipped['created_s']:.1f} s. Raw: {path}")


if __name__ == "__main__":
    main()
