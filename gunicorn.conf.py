"""Gunicorn settings for an I/O-bound service: a few processes, threads for waiting on TikTok."""

import multiprocessing
import os

bind = os.environ.get("BROKER_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2, 8)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Build the app once in the master: the configuration is validated before any worker starts,
# and a bad one stops gunicorn with the full list of problems instead of a crash loop.
preload_app = True
timeout = 60            # a worker silent this long is restarted; TikTok calls time out long before
graceful_timeout = 20
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off overlayfs
max_requests = 5000     # recycle workers now and then; jitter avoids restarting all at once
max_requests_jitter = 500
# The access log shows the path without its query string (%(U)s): callbacks carry OAuth codes.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
