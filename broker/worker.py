"""`python -m broker worker`: runs scheduled posts and delivers events to the app's backend, on
RQ over the broker's Redis (same code and settings as the web server).

The job functions below are what RQ runs, by name (broker.jobs.queue). Each worker process
builds its services once. `--check` exits 0 when a worker answers (RQ's heartbeat, renewed by a
live worker) and its scheduler holds its lock: a container health check.
"""

from __future__ import annotations

import logging
import os
import socket
import sys

import redis
from rq import Worker
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from broker.clock import SystemClock
from broker.config.environment import ConfigError
from broker.config.settings import Settings
from broker.jobs.queue import EVENTS, POSTS
from broker.services import Services, build_services
from broker.storage.connection import connect
from broker.web.logs import configure_logging

log = logging.getLogger(__name__)
_built: list[Services] = []


def _services() -> Services:
    """This process's services, built from the environment on first use."""
    if not _built:
        settings = Settings.from_env()
        configure_logging(secrets=(settings.client_secret, settings.app_webhook_secret))
        _built.append(build_services(settings, SystemClock()))
    return _built[0]


def run_post(post_id: str) -> None:
    """Job: run (or resume) a scheduled post."""
    _services().runner.run(post_id)


def watch_post(post_id: str) -> None:
    """Job: resume a running post whose worker died."""
    _services().runner.watch(post_id)


def check_post(post_id: str, round_: int) -> None:
    """Job: ask TikTok for a post's status when no webhook told it (backing off, about 24 h)."""
    _services().tracker.check(post_id, round_)


def deliver_event(event_id: str) -> None:
    """Job: one delivery attempt of an event to the app's backend (RQ retries on failure)."""
    _services().events.deliver(event_id)


def work(maintenance: int) -> int:
    """Run the worker until it is stopped (SIGTERM: warm shutdown after the current job)."""
    svc = _services()
    connection = connect(svc.settings.redis_url, decode_responses=False)
    # SimpleWorker runs each job in this process: a worker that dies takes its post with it, and
    # the post's lease hands it to another worker (broker.jobs.runner).
    worker = SimpleWorker([POSTS, EVENTS], connection=connection, serializer=JSONSerializer,
                          name=f"broker-{socket.gethostname()}-{os.getpid()}",
                          maintenance_interval=maintenance)
    worker.work(with_scheduler=True, logging_level="WARNING")
    return 0


def check(settings: Settings) -> int:
    """0 when a live worker serves the queues and one of them holds the scheduler lock."""
    connection = connect(settings.redis_url, decode_responses=False)
    try:
        workers = [w for w in Worker.all(connection=connection, serializer=JSONSerializer)
                   if POSTS in w.queue_names()]
        scheduling = connection.exists(f"rq:scheduler-lock:{POSTS}")
    except redis.RedisError as exc:
        print(f"worker check failed: Redis unavailable ({type(exc).__name__})", file=sys.stderr)
        return 1
    print(f"{len(workers)} worker(s); scheduler {'running' if scheduling else 'not running'}")
    return 0 if workers and scheduling else 1


def send_test_event() -> int:
    """Deliver one signed `test` event to APP_WEBHOOK_URL now; exit 1 unless it took it."""
    svc = _services()
    if not svc.events.enabled:
        print("APP_WEBHOOK_URL and APP_WEBHOOK_SECRET are not set", file=sys.stderr)
        return 1
    event_id = "msg_test_" + str(int(svc.clock.now()))
    status = svc.events.send(event_id, svc.events.body("test", {"message": "hello"}))
    print(f"test event {event_id}: the app answered {status or 'nothing'}")
    return 0 if 200 <= status < 300 else 1


def main(argv: list[str]) -> int:
    """`worker [--check]` and `send-test-event`."""
    try:
        settings = _services().settings if argv[:1] != ["--check"] else Settings.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    if argv[:1] == ["--check"]:
        return check(settings)
    return work(settings.worker_maintenance)

