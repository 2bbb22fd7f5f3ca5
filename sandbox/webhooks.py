"""Signed webhook deliveries (§6) with at-least-once retries and exponential backoff."""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from .config import Config


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The TikTok-Signature header value: t=<ts>,s=<hex HMAC-SHA256(secret, f"{t}.{body}")> (§6)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},s={mac.hexdigest()}"  # §6 [OBS]: lowercase hex


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event: str = field(compare=False)
    body: bytes = field(compare=False, repr=False)
    first_t: int = field(compare=False)
    attempt: int = field(compare=False)
    generation: int = field(compare=False)


class Webhooks:
    """Queues events for ``config.webhook_url`` and records every delivery attempt.

    One worker delivers due jobs in order (events reach the receiver in the order they
    happened); a failed attempt is re-queued with exponential backoff, so it never holds up
    newer events.
    """

    def __init__(self, config: Callable[[], Config], clock_now: Callable[[], float]) -> None:
        self._config = config
        self._now = clock_now
        self._cond = threading.Condition()
        self._jobs: list[_Job] = []
        self._seq = itertools.count()
        self._generation = 0
        self._http = requests.Session()
        self.attempts: list[dict[str, Any]] = []
        threading.Thread(target=self._worker, daemon=True, name="sandbox-webhooks").start()

    def reset(self) -> None:
        """Drop the delivery log and every pending delivery."""
        with self._cond:
            self._generation += 1
            self._jobs = []
            self.attempts = []

    def send(self, event: str, open_id: str | None, content: dict[str, Any]) -> None:
        """Queue one event; returns at once. Nothing is sent when no webhook URL is set."""
        cfg = self._config()
        if not cfg.webhook_url:
            return
        envelope: dict[str, Any] = {"client_key": cfg.client_key, "event": event,
                                    "create_time": int(self._now())}  # §6: epoch seconds
        if open_id is not None:
            envelope["user_openid"] = open_id
        envelope["content"] = json.dumps(content)  # §6: content is a JSON *string*
        body = json.dumps(envelope).encode()
        with self._cond:
            job = _Job(time.monotonic(), next(self._seq), event, body, int(self._now()), 1,
                       self._generation)
            heapq.heappush(self._jobs, job)
            self._cond.notify()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._jobs or self._jobs[0].due > time.monotonic():
                    wait = self._jobs[0].due - time.monotonic() if self._jobs else None
                    self._cond.wait(wait)
                job = heapq.heappop(self._jobs)
            self._attempt(job)

    def _attempt(self, job: _Job) -> None:
        cfg = self._config()
        # §6 [UNCONFIRMED]: whether retries are re-signed with a fresh t; switchable.
        t = int(self._now()) if cfg.webhook_resign else job.first_t
        record: dict[str, Any] = {"event": job.event, "url": cfg.webhook_url,
                                  "attempt": job.attempt, "time": time.time(),
                                  "body": job.body.decode(), "status_code": None, "error": None}
        ok = False
        if cfg.webhook_url:
            try:
                resp = self._http.post(cfg.webhook_url, data=job.body, timeout=5, headers={
                    "Content-Type": "application/json",
                    "TikTok-Signature": sign(cfg.client_secret, t, job.body)})
                record["status_code"] = resp.status_code
                ok = resp.status_code == 200  # §6: the receiver must answer 200 immediately
            except requests.RequestException as exc:
                record["error"] = type(exc).__name__
        with self._cond:
            if job.generation != self._generation:
                return
            self.attempts.append(record)
            if ok or job.attempt >= cfg.webhook_max_attempts:
                return
            # §6: TikTok retries with exponential backoff (for up to 72 h; here a few attempts).
            job.due = time.monotonic() + cfg.webhook_backoff * (2 ** (job.attempt - 1))
            job.attempt += 1
            heapq.heappush(self._jobs, job)
            self._cond.notify()
