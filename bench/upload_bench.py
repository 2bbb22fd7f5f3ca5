"""Upload benchmark: files streamed through the broker to the sandbox, beside a loopback copy.

    python -m bench.upload_bench [--sizes 32,256,1024] [--redis redis://127.0.0.1:6379/14]

Starts the TikTok sandbox and a one-worker gunicorn broker (the production command), logs in as
the private test user, and for each size (MiB): POST /api/videos, then PUT the bytes, generated
on the fly, to /api/uploads/<id>, several times (median time). The broker worker's peak
resident memory during each upload is its exact high-water mark on Linux (VmHWM, reset before
the upload), else sampled every 10 ms. The baseline sends the same number of bytes over a
loopback TCP socket to another process that discards them. Prints a Markdown table
(docs/BENCHMARKS.md holds the last one).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import socket
import statistics
import threading
import time
from typing import Any

import psutil
import redis
import requests

from tests.support.broker import start_broker
from tests.support.flows import login
from tests.support.sandbox import start_sandbox

MIB = 1024 * 1024
PIECE = MIB


class Generated:
    """`size` bytes made piece by piece, with a length so requests sends a Content-Length."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = os.urandom(PIECE)

    def __len__(self) -> int:
        return self.left

    def read(self, n: int = -1) -> bytes:
        n = min(self.left, PIECE if n is None or n < 0 else n, PIECE)
        self.left -= n
        return self.block[:n]


class PeakRss:
    """A process's peak resident memory over a block: Linux's VmHWM, reset on entry through
    /proc/<pid>/clear_refs; elsewhere, sampled every 10 ms."""

    def __init__(self, process: psutil.Process) -> None:
        self.process, self.peak = process, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._proc = f"/proc/{process.pid}"

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def _hwm(self) -> int | None:
        try:
            with open(f"{self._proc}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def __enter__(self) -> PeakRss:
        try:
            with open(f"{self._proc}/clear_refs", "w") as clear:
                clear.write("5")  # reset the high-water mark to the current RSS
        except OSError:
            pass
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._hwm() or 0)


def _sink(listener: socket.socket) -> None:
    connection, _ = listener.accept()
    with connection:
        while connection.recv(PIECE):
            pass


def loopback_copy(size: int) -> float:
    """Seconds to send `size` bytes over loopback TCP to another process that drops them."""
    listener = socket.create_server(("127.0.0.1", 0))
    sink = multiprocessing.Process(target=_sink, args=(listener,), daemon=True)
    sink.start()
    body = Generated(size)
    started = time.perf_counter()
    with socket.create_connection(listener.getsockname()) as client:
        while piece := body.read(PIECE):
            client.sendall(piece)
        client.shutdown(socket.SHUT_WR)
    sink.join()
    listener.close()
    return time.perf_counter() - started


def broker_upload(url: str, headers: dict[str, str], size: int,
                  worker: psutil.Process) -> dict[str, Any]:
    """One direct post by upload through the broker, timed, with the worker's peak RSS."""
    started = requests.post(f"{url}/api/videos", headers=headers, timeout=30, json={
        "mode": "direct", "post_info": {"privacy_level": "SELF_ONLY", "title": "bench"},
        "video_size": size})
    started.raise_for_status()
    idle = worker.memory_info().rss
    with PeakRss(worker) as rss:
        begun = time.perf_counter()
        answer = requests.put(f"{url}{started.json()['upload_url']}", data=Generated(size),
                              headers={**headers, "Content-Type": "video/mp4"}, timeout=3600)
        seconds = time.perf_counter() - begun
    answer.raise_for_status()
    assert answer.json()["uploaded_bytes"] == size, answer.text
    return {"seconds": seconds, "idle": idle, "peak": rss.peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,256,1024", help="MiB, comma-separated")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--chunk", default=str(10 * MIB), help="UPLOAD_CHUNK_SIZE in bytes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median time)")
    args = parser.parse_args()
    sizes = [int(s) * MIB for s in args.sizes.split(",")]
    redis.Redis.from_url(args.redis).flushdb()
    with start_sandbox(env={"SANDBOX_PROCESSING_SECONDS": "1"}) as sandbox, \
            start_broker(sandbox_url=sandbox.url, redis_url=args.redis, workers=1,
                         env={"UPLOAD_CHUNK_SIZE": args.chunk}) as broker:
        sandbox.configure(redirect_uris=[broker.redirect_uri], rate_limits=False,
                          posts_per_day=10_000)
        headers = login(broker.url, user="-000bob",
                        scopes=["user.info.basic", "video.publish", "video.upload"]).bearer()
        worker = psutil.Process(broker.process.pid).children()[0]
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}; UPLOAD_CHUNK_SIZE={int(args.chunk) // MIB} MiB\n")
        print("| file | broker: time | broker: throughput | broker worker RSS idle -> peak "
              "(growth) | loopback copy: time | loopback: throughput |")
        print("|---:|---:|---:|---:|---:|---:|")
        for size in sizes:
            runs = [broker_upload(broker.url, headers, size, worker) for _ in range(args.repeat)]
            seconds = statistics.median(r["seconds"] for r in runs)
            idle, peak = min(r["idle"] for r in runs), max(r["peak"] for r in runs)
            base = statistics.median(loopback_copy(size) for _ in range(args.repeat))
            mib = size / MIB
            print(f"| {mib:.0f} MiB | {seconds:.2f} s | {mib / seconds:.0f} MiB/s "
                  f"| {idle / MIB:.0f} -> {peak / MIB:.0f} MiB (+{(peak - idle) / MIB:.0f} MiB) "
                  f"| {base:.2f} s | {mib / base:.0f} MiB/s |", flush=True)

if __name__ == "__main__":
    main()
