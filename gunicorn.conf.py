"""Gunicorn settings for an I/O-bound service: a few processes, threads for waiting on TikTok."""
# The worker class and the access logger are set at the end of this file (broker.web.server).

import gc
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("BROKER_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Build the app once in the master: the configuration is validated before any worker starts,
# and a bad one stops gunicorn with the full list of problems instead of a crash loop.
preload_app = True
timeout = 60            # a worker silent this long is restarted; TikTok calls time out long before
graceful_timeout = 20
keepalive = 5
# Worker heartbeat files in RAM, not on a container's overlay filesystem (gunicorn's advice).
SHM = "/dev/shm"  # noqa: S108 (gunicorn creates its own unique files inside)
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
# Recycle workers now and then (a guard against a slow leak); jitter avoids restarting all at
# once. Rarely: a restart drops the worker's keep-alive connections and its warm state (remembered
# JWTs, its Redis connections), and at 5,000 a worker under load restarted every ~8 s, which
# showed in the p99 (docs/BENCHMARKS.md, #14).
max_requests = 100_000
max_requests_jitter = 10_000
# The access log shows the path without its query string (%(U)s): callbacks carry OAuth codes.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's runtime control socket is unused here; every instance on a host would share
# one default path (~/.gunicorn/gunicorn.ctl), and it is one more way in. Off.
control_socket_disable = True

# Prometheus multiprocess mode (broker/web/metrics.py): every worker writes its samples to files in
# one directory and GET /metrics adds them all up. prometheus_client reads the variable when it
# is imported, and preload_app imports the app right after this file is read, before any server
# hook runs: so a private directory is made here (in RAM when possible) when none is given. A
# directory you set yourself must be emptied before each start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ["_BROKER_OWN_METRICS_DIR"] = \
        tempfile.mkdtemp(prefix="tiktok-broker-metrics-", dir=worker_tmp_dir)


def when_ready(server):
    """The app is loaded and no worker is forked yet: freeze the heap, then (METRICS_BIND) serve
    /metrics from the master.

    gc.freeze() moves every object the preloaded app made into a generation the collector never
    scans (Python's advice for a forking server): a worker's full collection then walks only
    what it made itself, not the ~85,000 objects of the loaded app, a ~40 ms pause with every
    thread stopped, and the pages shared with the master stay shared.

    With METRICS_BIND (host:port), /metrics is served there, from the master, and not on the
    public listener: every worker's samples, as the app's own /metrics would."""
    gc.freeze()
    bind = os.environ.get("METRICS_BIND", "").strip()
    if not bind:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    host, _, port = bind.rpartition(":")
    start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    server.log.info("metrics served at http://%s/metrics", bind)


def child_exit(server, worker):
    """A worker is gone: its live gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this file made (never one that was given)."""
    own = os.environ.get("_BROKER_OWN_METRICS_DIR")
    if own and own == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(own, ignore_errors=True)


# Imported last: prometheus_client (imported with the broker) must see the directory above.
from broker.web.server import EscapingLogger, PatientSocket, PatientThreadWorker  # noqa: E402

# gthread, with a timeout on every read and write of a client socket (slow clients).
worker_class = PatientThreadWorker
PatientSocket.timeout_seconds = float(os.environ.get("CLIENT_READ_TIMEOUT", "10"))
# Control characters in logged request fields are escaped (no forged log lines).
logger_class = EscapingLogger
