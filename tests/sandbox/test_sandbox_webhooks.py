"""Signed webhooks (tiktok-api.md §6): publish progress, authorization.removed, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

PULL = "https://media.example.com/videos/clip.mp4"


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def verify(delivery, secret):
    header = {k.lower(): v for k, v in delivery["headers"].items()}["tiktok-signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + delivery["body"],
                   hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["s"]), int(parts["t"])


def test_publish_webhooks_are_signed(tt, sandbox, receiver):
    sandbox.configure(audited=True)
    alice = tt.login()
    body = {"post_info": {"privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": PULL}}
    pid = tt.post("video/init/", alice, body).json()["data"]["publish_id"]
    wait_for(lambda: len(receiver.events()) >= 2)
    events = receiver.events()
    assert [e["event"] for e in events] == ["post.publish.complete",
                                           "post.publish.publicly_available"]
    for delivery, event in zip(receiver.deliveries, events, strict=True):
        ok, t = verify(delivery, tt.client_secret)
        assert ok and abs(t - time.time()) < 10
        assert event["client_key"] == tt.client_key
        assert event["user_openid"] == "-000alice"
        assert isinstance(event["create_time"], int) and event["create_time"] < 10**11
        content = json.loads(event["content"])  # content is a JSON string
        assert content["publish_id"] == pid and content["publish_type"] == "DIRECT_PUBLISH"
    assert json.loads(events[1]["content"])["post_id"]


def test_inbox_delivered_and_failed_events(tt, sandbox, receiver):
    bob = tt.login("-000bob")
    body = {"source_info": {"source": "PULL_FROM_URL", "video_url": PULL}}
    tt.post("inbox/video/init/", bob, body)
    wait_for(lambda: len(receiver.events()) >= 1)
    event = receiver.events()[0]
    assert event["event"] == "post.publish.inbox_delivered"
    assert json.loads(event["content"])["publish_type"] == "INBOX_SHARE"
    sandbox.configure(processing_seconds=30)
    pid = tt.post("inbox/video/init/", bob, body).json()["data"]["publish_id"]
    tt.post("cancel/", bob, {"publish_id": pid})
    wait_for(lambda: len(receiver.events()) >= 2)
    failed = receiver.events()[1]
    assert failed["event"] == "post.publish.failed"
    assert json.loads(failed["content"]) == {"publish_id": pid, "reason": "publish_cancelled",
                                             "publish_type": "INBOX_SHARE"}


def test_revoke_and_disconnect_send_authorization_removed(tt, sandbox, receiver):
    tokens = tt.login()
    tt.revoke(tokens["access_token"])
    tt.login("-000bob")
    sandbox.disconnect("-000bob")
    wait_for(lambda: len(receiver.events()) >= 2)
    got = {(e["event"], e["user_openid"], json.loads(e["content"])["reason"])
           for e in receiver.events()}
    assert got == {("authorization.removed", "-000alice", 5),
                   ("authorization.removed", "-000bob", 1)}


def test_revoke_webhook_switch(tt, sandbox, receiver):
    sandbox.configure(revoke_webhook=False)
    tt.revoke(tt.login()["access_token"])
    time.sleep(0.3)
    assert receiver.events() == []


def test_retries_with_backoff_until_200(tt, sandbox, receiver):
    receiver.fail_first = 2
    sandbox.disconnect("-000alice")
    wait_for(lambda: len(receiver.deliveries) >= 3)
    attempts = sandbox.webhooks()
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert attempts[1]["time"] - attempts[0]["time"] >= 0.045  # backoff 0.05 s, then doubled
    assert attempts[2]["time"] - attempts[1]["time"] >= 0.095
    assert all(verify(d, tt.client_secret)[0] for d in receiver.deliveries)
    assert len({d["body"] for d in receiver.deliveries}) == 1  # the same event each time


def test_gives_up_after_max_attempts(tt, sandbox, receiver):
    sandbox.configure(webhook_max_attempts=2)
    receiver.fail_first = 10
    sandbox.disconnect("-000alice")
    time.sleep(0.6)
    assert len(sandbox.webhooks()) == 2


def test_unreachable_receiver_is_recorded(tt, sandbox):
    sandbox.configure(webhook_url="http://127.0.0.1:9/none", webhook_max_attempts=1)
    sandbox.disconnect("-000alice")
    wait_for(lambda: len(sandbox.webhooks()) == 1)
    assert sandbox.webhooks()[0]["error"] and sandbox.webhooks()[0]["status_code"] is None


def test_no_webhook_url_no_deliveries(tt, sandbox):
    sandbox.disconnect("-000alice")
    time.sleep(0.2)
    assert sandbox.webhooks() == []
