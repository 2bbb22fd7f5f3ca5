"""Signed webhook deliveries (§6) with at-least-once retries and exponential backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .config import Config


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The TikTok-Signature header value: t=<ts>,s=<hex HMAC-SHA256(secret, f"{t}.{body}")> (§6)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},s={mac.hexdigest()}"  # §6 [OBS]: lowercase hex


class Webhooks:
    """Queues events for ``config.webhook_url`` and records every delivery attempt."""

    def __init__(self, config: Callable[[], Config], clock_now: Callable[[], float]) -> None:
        self._config = config
        self._now = clock_now
        self._lock = threading.Lock()
        self._generation = 0
        self._http = requests.Session()
        self.attempts: list[dict[str, Any]] = []

    def reset(self) -> None:
        """Drop the delivery log and abandon pending retries."""
        with self._lock:
            self._generation += 1
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
        with self._lock:
            generation = self._generation
        threading.Thread(target=self._deliver, args=(cfg, event, body, generation),
                         daemon=True, name=f"webhook-{event}").start()

    def _deliver(self, cfg: Config, event: str, body: bytes, generation: int) -> None:
        first_t = int(self._now())
        for attempt in range(1, cfg.webhook_max_attempts + 1):
            # §6 [UNCONFIRMED]: whether retries are re-signed with a fresh t; switchable.
            t = int(self._now()) if cfg.webhook_resign else first_t
            record: dict[str, Any] = {"event": event, "url": cfg.webhook_url, "attempt": attempt,
                                      "time": time.time(), "body": body.decode(),
                                      "status_code": None, "error": None}
            try:
                resp = self._http.post(cfg.webhook_url, data=body, timeout=5, headers={
                    "Content-Type": "application/json",
                    "TikTok-Signature": sign(cfg.client_secret, t, body)})
                record["status_code"] = resp.status_code
                ok = resp.status_code == 200  # §6: the receiver must answer 200 immediately
            except requests.RequestException as exc:
                record["error"] = type(exc).__name__
                ok = False
            with self._lock:
                if generation != self._generation:
                    return
                self.attempts.append(record)
            if ok:
                return
            # §6: TikTok retries with exponential backoff (for up to 72 h; here a few attempts).
            time.sleep(cfg.webhook_backoff * (2 ** (attempt - 1)))
