"""Scheduled posts over real HTTP, run by real `python -m broker worker` processes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import requests

from tests.support.media_server import MediaServer
from tests.support.posting import MEDIA, bearer, wait_for

VIDEO = {"kind": "video", "mode": "direct", "video_url": MEDIA + "clip.mp4",
         "post_info": {"privacy_level": "SELF_ONLY", "title": "later"}}


def _at(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds, UTC).isoformat()


def _post(url: str, headers: dict[str, str], body: dict, **kw) -> requests.Response:
    return requests.post(f"{url}/api/posts", json=body, headers=headers, timeout=30, **kw)


def _status(url: str, headers: dict[str, str], post_id: str, wanted: str) -> dict:
    def check() -> dict | None:
        record = requests.get(f"{url}/api/posts/{post_id}", headers=headers, timeout=10).json()
        return record if record["status"] == wanted else None
    return wait_for(check, timeout=40, every=0.3)


def test_a_scheduled_post_runs_at_its_time(posting_stack, sandbox):
    broker, _ = posting_stack()
    auth = bearer(broker.url)
    created = _post(broker.url, auth, {**VIDEO, "publish_at": _at(4)})
    assert created.status_code == 202, created.text
    record = created.json()
    assert record["status"] == "scheduled" and record["publish_at"].endswith("Z")
    time.sleep(2)
    assert not sandbox.requests("video_init")  # not before its time
    done = _status(broker.url, auth, record["post_id"], "published")
    started = [r for r in sandbox.requests("video_init")]
    assert len(started) == 1 and done["publish_id"] and done["attempts"] == 1
    assert started[0]["time"] >= datetime.fromisoformat(record["publish_at"]).timestamp() - 1
    listed = requests.get(f"{broker.url}/api/posts", headers=auth, timeout=10).json()["posts"]
    assert [p["post_id"] for p in listed] == [record["post_id"]]
    assert requests.get(f"{broker.url}/api/posts?status=failed", headers=auth,
                        timeout=10).json() == {"posts": []}


def test_another_caller_sees_nothing_and_cancel_rules(posting_stack, sandbox):
    broker, _ = posting_stack()
    alice, bob = bearer(broker.url, "-000alice"), bearer(broker.url)
    record = _post(broker.url, bob, {**VIDEO, "publish_at": _at(3600)}).json()
    path = f"{broker.url}/api/posts/{record['post_id']}"
    assert requests.get(path, headers=alice, timeout=10).json()["error"] == "post_not_found"
    assert requests.delete(path, headers=alice, timeout=10).status_code == 404
    assert requests.delete(path, headers=bob, timeout=10).status_code == 204
    assert requests.get(path, headers=bob, timeout=10).json()["status"] == "cancelled"
    now = _post(broker.url, bob, VIDEO).json()
    _status(broker.url, bob, now["post_id"], "published")
    refused = requests.delete(f"{broker.url}/api/posts/{now['post_id']}", headers=bob,
                              timeout=10)
    assert refused.status_code == 409 and refused.json()["error"] == "post_started"


def test_bad_posts_are_refused_before_anything_runs(posting_stack, sandbox):
    broker, _ = posting_stack()
    auth = bearer(broker.url)
    cases = [({**VIDEO, "publish_at": "tomorrow"}, "invalid_publish_at"),
             ({**VIDEO, "publish_at": "2026-12-01T10:00:00"}, "invalid_publish_at"),
             ({**VIDEO, "kind": "photo"}, "invalid_photo_images"),
             ({**VIDEO, "source_url": MEDIA + "x.mp4"}, "invalid_video_source"),
             ({**VIDEO, "post_info": {"title": "x"}}, "privacy_level_required")]
    for body, code in cases:
        answer = _post(broker.url, auth, body)
        assert (answer.status_code, answer.json()["error"]) == (400, code), body
    assert requests.get(f"{broker.url}/api/posts/pst_nothing", headers=auth,
                        timeout=10).status_code == 404
    assert not sandbox.requests("video_init")


def test_a_cap_defers_the_post_and_it_completes_later(posting_stack, sandbox):
    broker, _ = posting_stack()
    auth = bearer(broker.url)
    sandbox.configure(posts_per_day=0)
    record = _post(broker.url, auth, VIDEO).json()
    deferred = _status(broker.url, auth, record["post_id"], "deferred")
    assert deferred["next_attempt_at"] and deferred["fail_reason"] is None
    sandbox.configure(posts_per_day=100_000)
    done = _status(broker.url, auth, record["post_id"], "published")
    assert done["attempts"] >= 2
    assert len([r for r in sandbox.requests("video_init") if r["status"] == 200]) == 1


def test_creator_info_is_checked_again_at_run_time(posting_stack, sandbox):
    broker, _ = posting_stack()
    auth = bearer(broker.url)
    record = _post(broker.url, auth, {**VIDEO, "publish_at": _at(2)}).json()
    # Between scheduling and its time, TikTok stops letting the creator post.
    sandbox.fault("creator_info", "error_200", error="spam_risk_user_banned_from_posting")
    failed = _status(broker.url, auth, record["post_id"], "failed")
    assert failed["fail_reason"] == "spam_risk_user_banned_from_posting"
    assert sandbox.requests("creator_info") and not sandbox.requests("video_init")


def test_transient_tiktok_failures_are_retried_with_backoff(posting_stack, sandbox):
    broker, _ = posting_stack()
    auth = bearer(broker.url)
    sandbox.fault("video_init", "status", status=503, times=2)
    record = _post(broker.url, auth, VIDEO).json()
    done = _status(broker.url, auth, record["post_id"], "published")
    inits = sandbox.requests("video_init")
    assert [r["status"] for r in inits] == [503, 503, 200] and done["attempts"] == 3
    assert inits[2]["time"] - inits[1]["time"] >= 1.5  # 1 s, then 2 s: the backoff grows


def test_a_worker_killed_mid_upload_is_replaced_without_a_second_post(posting_stack, sandbox,
                                                                      redis_client):
    media = MediaServer()
    try:
        broker, workers = posting_stack(2, MEDIA_SOURCE_HOSTS="localhost",
                                        MEDIA_SOURCE_CA_FILE=str(media.ca_path))
        auth = bearer(broker.url)
        sandbox.fault("upload", "latency", seconds=0.7)  # each 10 MiB chunk takes a while
        answer = requests.post(f"{broker.url}/api/videos", headers=auth, timeout=30, json={
            "mode": "direct", "post_info": {"privacy_level": "SELF_ONLY"},
            "source_url": media.url(f"/video?size={60 * 1024 * 1024}")})
        post_id = answer.json()["post_id"]

        def uploading() -> dict | None:
            stored = json.loads(redis_client.get(f"tb:post:{post_id}") or "{}")
            held = redis_client.hget(f"tb:publish:{stored.get('publish_id')}", "uploaded_bytes")
            return stored if stored.get("stage") == "uploading" and int(held or 0) > 0 else None
        running = wait_for(uploading, timeout=40, every=0.1)
        victim = next(w for w in workers if running["runner"].startswith(f"{w.pid}-"))
        victim.kill()
        try:
            done = _status(broker.url, auth, post_id, "published")
        except AssertionError:
            print(redis_client.get(f"tb:post:{post_id}"))
            stored = json.loads(redis_client.get(f"tb:post:{post_id}"))
            print(redis_client.hgetall(f"tb:publish:{stored['publish_id']}"))
            print([(c["content_range"], c["status"], c["bytes"]) for c in
                   sandbox.upload(stored["publish_id"])["chunks"]])
            for w in workers:
                print(w.pid, w.log_text()[-3000:])
            raise
        assert len(sandbox.requests("video_init")) == 1  # started once, resumed elsewhere
        upload = sandbox.upload(done["publish_id"])
        assert sum(c["bytes"] for c in upload["chunks"] if c["accepted"]) == 60 * 1024 * 1024
        assert done["attempts"] == 1
    finally:
        media.stop()
