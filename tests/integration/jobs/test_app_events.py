"""Events to the app's backend: Standard Webhooks signatures, delivered by the worker, at least
once, redelivered with the same webhook-id after the receiver was down."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from standardwebhooks.webhooks import Webhook

from tests.support.posting import MEDIA, bearer, signed_webhook, wait_for
from tests.support.processes import free_port
from tests.support.service import connect, create_key, service

SECRET = "whsec_" + base64.b64encode(b"app-webhook-test-secret-32-bytes").decode()


class Receiver:
    """The app's backend: verifies each delivery with the standardwebhooks package."""

    def __init__(self, port: int, *, fail_first: bool = False) -> None:
        """`fail_first`: answer 503 to the first attempt of each webhook-id (all are kept)."""
        self.received: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items()}
                try:
                    payload = Webhook(SECRET).verify(body, headers)
                    valid = True
                except Exception:
                    payload, valid = json.loads(body), False
                entry = {"id": headers.get("webhook-id"), "valid": valid, "payload": payload,
                         "body": body, "at": time.monotonic()}
                seen = any(a["id"] == entry["id"] for a in owner.attempts)
                owner.attempts.append(entry)
                refuse = fail_first and not seen
                if not refuse:
                    owner.received.append(entry)
                self.send_response(503 if refuse else 204 if valid else 400)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_events_are_signed_and_redelivered_after_the_receiver_was_down(posting_stack, sandbox):
    port = free_port()
    broker, _ = posting_stack(APP_WEBHOOK_URL=f"http://127.0.0.1:{port}/hooks",
                              APP_WEBHOOK_SECRET=SECRET)
    # The receiver is down: the removal is acknowledged to TikTok at once all the same.
    bearer(broker.url)  # bob connected
    started = time.monotonic()
    answer, _ = signed_webhook(broker.url, "authorization.removed", {"reason": 1}, "-000bob")
    assert answer.status_code == 200 and time.monotonic() - started < 2
    time.sleep(2)  # the first delivery attempt fails (nothing listens)
    receiver = Receiver(port)
    try:
        removed = wait_for(lambda: receiver.received, timeout=30)[0]
        assert removed["valid"] and removed["payload"]["type"] == "account.removed"
        assert removed["payload"]["data"] == {"account_id": "-000bob", "reason": 1}
        # A post that fails tells the app too, with TikTok's reason and a hint.
        auth = bearer(broker.url)
        sandbox.fault("creator_info", "error_200", error="spam_risk_user_banned_from_posting")
        requests.post(f"{broker.url}/api/posts", headers=auth, timeout=10, json={
            "kind": "video", "mode": "direct", "video_url": MEDIA + "v.mp4",
            "post_info": {"privacy_level": "SELF_ONLY"}})
        failed = wait_for(lambda: [r for r in receiver.received
                                   if r["payload"]["type"] == "post.failed"], timeout=30)[0]
        assert failed["valid"]
        assert failed["payload"]["data"]["fail_reason"] == "spam_risk_user_banned_from_posting"
        assert failed["payload"]["data"]["hint"] and failed["payload"]["data"]["post_id"]
        ids = [r["id"] for r in receiver.received]
        assert len(ids) == len(set(ids))  # each event once the receiver took it
    finally:
        receiver.stop()


def test_a_failed_delivery_is_retried_with_the_same_webhook_id(posting_stack, sandbox):
    port = free_port()
    receiver = Receiver(port, fail_first=True)  # up, but its first answer is a 503
    try:
        broker, _ = posting_stack(APP_WEBHOOK_URL=f"http://127.0.0.1:{port}/hooks",
                                  APP_WEBHOOK_SECRET=SECRET)
        bearer(broker.url)
        answer, _ = signed_webhook(broker.url, "authorization.removed", {"reason": 2}, "-000bob")
        assert answer.status_code == 200
        wait_for(lambda: receiver.received, timeout=40)
        time.sleep(7)  # longer than the first retry interval: a spurious third attempt shows
        first, second = receiver.attempts  # refused once, taken once, nothing more
        assert first["id"] and first["id"].startswith("msg_")
        assert second["id"] == first["id"]  # Standard Webhooks: the receiver can deduplicate
        assert first["valid"] and second["valid"]  # each attempt signed (afresh) with the key
        assert second["body"] == first["body"]
        assert second["payload"]["type"] == "account.removed"
        assert second["payload"]["data"] == {"account_id": "-000bob", "reason": 2}
        assert second["at"] - first["at"] >= 4  # retried after a backoff, not at once
        assert receiver.received == [second]
    finally:
        receiver.stop()


def test_send_test_event_command(posting_stack, sandbox):
    port = free_port()
    _, workers = posting_stack(APP_WEBHOOK_URL=f"http://127.0.0.1:{port}/hooks",
                               APP_WEBHOOK_SECRET=SECRET)
    receiver = Receiver(port)
    try:
        sent = subprocess.run([sys.executable, "-m", "broker", "send-test-event"],
                              env=workers[0].env, capture_output=True, timeout=30, text=True)
        assert sent.returncode == 0, sent.stderr
        assert receiver.received[0]["valid"] and receiver.received[0]["payload"]["type"] == "test"
    finally:
        receiver.stop()


def test_the_app_hears_of_connected_accounts_and_of_ones_to_connect_again(posting_stack, sandbox):
    port = free_port()
    broker, _ = posting_stack(APP_WEBHOOK_URL=f"http://127.0.0.1:{port}/hooks",
                              APP_WEBHOOK_SECRET=SECRET, PROFILE_CACHE_TTL="0")
    receiver = Receiver(port)
    try:
        key = create_key(broker)
        connect(broker, key, "user-7", "-000bob")
        connected = wait_for(lambda: [r for r in receiver.received
                                      if r["payload"]["type"] == "account.connected"])[0]
        assert connected["valid"]
        assert connected["payload"]["data"]["account_id"] == "-000bob"
        assert connected["payload"]["data"]["app_user_id"] == "user-7"
        webhook_url = sandbox.config()["webhook_url"]
        sandbox.configure(webhook_url="")  # TikTok's refusal of the refresh must say it alone
        try:
            sandbox.disconnect("-000bob")
            refused = requests.get(f"{broker.url}/api/me", headers=service(key, "-000bob"),
                                   timeout=10)
        finally:
            sandbox.configure(webhook_url=webhook_url)
        assert refused.json()["error"] == "reauth_required"
        reauth = wait_for(lambda: [r for r in receiver.received
                                   if r["payload"]["type"] == "account.reauth_required"])[0]
        assert reauth["valid"] and reauth["payload"]["data"] == {"account_id": "-000bob"}
    finally:
        receiver.stop()
