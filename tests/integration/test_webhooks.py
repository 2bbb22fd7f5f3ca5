"""TikTok's webhooks at the broker: signatures, replays, publish events, authorization.removed."""

from __future__ import annotations

import json
import time

import requests

from tests.support import posting as support
from tests.support.broker import CLIENT_KEY
from tests.support.flows import login, refresh
from tests.support.posting import (
    MEDIA,
    bearer,
    signed_webhook,
    wait_for,
)


def start_pull(url, headers):
    answer = requests.post(f"{url}/api/videos", headers=headers, timeout=30, json={
        "mode": "direct", "post_info": {"privacy_level": "SELF_ONLY"},
        "video_url": f"{MEDIA}w.mp4"})
    assert answer.status_code == 201, answer.text
    return answer.json()["publish_id"]


def status_of(url, headers, publish_id):
    return requests.get(f"{url}/api/publish/{publish_id}", headers=headers, timeout=10).json()


def test_status_completes_by_webhook_without_polling_tiktok(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url=f"{broker.url}/webhooks/tiktok")
    headers = bearer(broker.url)
    publish_id = start_pull(broker.url, headers)

    wait_for(lambda: any(publish_id in w["body"] and w["status_code"] == 200
                         and w["event"] == "post.publish.complete"
                         for w in roomy_sandbox.webhooks()))
    roomy_sandbox.reset_log()
    answer = status_of(broker.url, headers, publish_id)

    assert answer == {"publish_id": publish_id, "status": "PUBLISH_COMPLETE",
                      "fail_reason": None, "post_ids": None, "uploaded_bytes": None}
    assert roomy_sandbox.requests(endpoint="status_fetch") == []


def test_publish_events_update_the_status(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")
    headers = bearer(broker.url)
    publish_id = start_pull(broker.url, headers)
    content = {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"}

    public, _ = signed_webhook(broker.url, "post.publish.publicly_available",
                               {**content, "post_id": "7300000000000000001"}, "-000bob")
    assert public.status_code == 200 and public.json() == {"status": "processed"}
    assert status_of(broker.url, headers, publish_id)["post_ids"] == ["7300000000000000001"]

    # §6: the documented event name is misspelled; both spellings take the post id away.
    for name in ("post.publish.no_longer_publicaly_available",
                 "post.publish.no_longer_publicly_available"):
        signed_webhook(broker.url, "post.publish.publicly_available",
                       {**content, "post_id": "7300000000000000002"}, "-000bob")
        gone, _ = signed_webhook(broker.url, name, {**content, "post_id": "7300000000000000002"},
                                 "-000bob")
        assert gone.status_code == 200
        assert status_of(broker.url, headers, publish_id)["post_ids"] == ["7300000000000000001"]
    assert status_of(broker.url, headers, publish_id)["status"] == "PUBLISH_COMPLETE"
    assert roomy_sandbox.requests(endpoint="status_fetch") == []


def test_failure_event_is_terminal(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")
    headers = bearer(broker.url)
    publish_id = start_pull(broker.url, headers)
    content = {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"}

    signed_webhook(broker.url, "post.publish.failed", {**content, "reason": "spam_risk_text"},
                   "-000bob")
    late, _ = signed_webhook(broker.url, "post.publish.complete", content, "-000bob")

    assert late.status_code == 200
    answer = status_of(broker.url, headers, publish_id)
    assert (answer["status"], answer["fail_reason"]) == ("FAILED", "spam_risk_text")


def test_forged_webhooks_are_refused(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")
    headers = bearer(broker.url)
    publish_id = start_pull(broker.url, headers)
    content = {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH", "reason": "internal"}

    wrong_key, _ = signed_webhook(broker.url, "post.publish.failed", content, "-000bob",
                                  secret="not-the-client-secret")
    unsigned = requests.post(f"{broker.url}/webhooks/tiktok", timeout=10,
                             data=json.dumps({"event": "post.publish.failed"}))
    garbled = requests.post(f"{broker.url}/webhooks/tiktok", timeout=10, data=b"{}",
                            headers={"TikTok-Signature": "t=abc,s=zz"})
    _, body = signed_webhook(broker.url, "post.publish.complete", content, "-000bob",
                             secret="x")
    tampered = requests.post(f"{broker.url}/webhooks/tiktok", timeout=10,
                             data=body.replace(b"complete", b"failed"),
                             headers={"TikTok-Signature": _signature_of(body)})

    non_ascii = requests.post(f"{broker.url}/webhooks/tiktok", timeout=10, data=body,
                              headers={"TikTok-Signature": f"t={int(time.time())},s=" + "é" * 64})

    for answer in (wrong_key, unsigned, garbled, tampered, non_ascii):
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "webhook_signature_invalid"
    assert status_of(broker.url, headers, publish_id)["status"] != "FAILED"


def _signature_of(body: bytes) -> str:
    import hashlib
    import hmac

    from tests.support.broker import CLIENT_SECRET
    t = int(time.time())
    return f"t={t},s=" + hmac.new(CLIENT_SECRET.encode(), f"{t}.".encode() + body,
                                  hashlib.sha256).hexdigest()


def test_replayed_webhooks_are_ignored_or_refused(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")
    headers = bearer(broker.url)
    publish_id = start_pull(broker.url, headers)
    content = {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH", "reason": "internal"}

    first, body = signed_webhook(broker.url, "post.publish.failed", content, "-000bob")
    # The same delivery again, re-signed now (a TikTok retry) and with its old signature later.
    again, _ = signed_webhook(broker.url, "", {}, None, body=body, header="tiktok-signature")
    stale_duplicate, _ = signed_webhook(broker.url, "", {}, None, body=body,
                                        t=int(time.time()) - 3600)
    stale_new, _ = signed_webhook(broker.url, "post.publish.complete", content, "-000bob",
                                  t=int(time.time()) - 3600)

    assert first.json() == {"status": "processed"}
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert stale_duplicate.status_code == 200 and stale_duplicate.json() == {"status": "duplicate"}
    assert stale_new.status_code == 400 and stale_new.json()["error"] == "webhook_expired"


def test_unknown_events_are_acknowledged(broker, roomy_sandbox):
    answer, _ = signed_webhook(broker.url, "tiktok.ping", {"reason": "testing Webhook"}, None)
    malformed = requests.post(f"{broker.url}/webhooks/tiktok", timeout=10, data=b"not json",
                              headers={"TikTok-Signature": _signature_of(b"not json")})
    assert answer.status_code == 200 and answer.json() == {"status": "ignored"}
    assert malformed.status_code == 400 and malformed.json()["error"] == "webhook_malformed"


def test_authorization_removed_ends_every_session(broker, roomy_sandbox, redis_client):
    roomy_sandbox.configure(webhook_url=f"{broker.url}/webhooks/tiktok")
    first = login(broker.url, user="-000bob", scopes=support.POST_SCOPES)
    second = login(broker.url, user="-000bob", scopes=support.POST_SCOPES)
    other = login(broker.url, user="-000alice", scopes=support.POST_SCOPES)
    assert requests.get(f"{broker.url}/api/me", headers=first.bearer(), timeout=10).ok
    assert redis_client.exists("tb:grant:-000bob")

    earlier = len(roomy_sandbox.webhooks())
    roomy_sandbox.disconnect("-000bob")  # the user removes the app in TikTok
    wait_for(lambda: any(w["event"] == "authorization.removed" and w["status_code"] == 200
                         and "-000bob" in w["body"]
                         for w in roomy_sandbox.webhooks()[earlier:]))

    for login_ in (first, second):
        answer = requests.get(f"{broker.url}/api/me", headers=login_.bearer(), timeout=10)
        assert answer.status_code == 401
        assert refresh(login_.browser, broker.url).status_code in (400, 401)
    assert not redis_client.exists("tb:grant:-000bob")
    assert not redis_client.keys("tb:{*}:user-sessions:-000bob")
    assert requests.get(f"{broker.url}/api/me", headers=other.bearer(), timeout=10).ok


def test_a_late_authorization_removed_spares_a_newer_login(broker, roomy_sandbox):
    """§6: TikTok retries for 72 h; an event older than the user's current grant (they logged
    in again since) must not end the new sessions."""
    headers = bearer(broker.url)
    stale = {"client_key": CLIENT_KEY, "event": "authorization.removed",
             "create_time": int(time.time()) - 3600, "user_openid": "-000bob",
             "content": json.dumps({"reason": 1})}
    answer, _ = signed_webhook(broker.url, "", {}, None, body=json.dumps(stale).encode())
    assert answer.status_code == 200 and answer.json() == {"status": "processed"}
    assert requests.get(f"{broker.url}/api/me", headers=headers, timeout=10).status_code == 200


def test_a_removal_before_a_relogin_still_ends_the_older_sessions(broker, roomy_sandbox,
                                                                    redis_client):
    """The user cut off a device at TikTok, then signed in again elsewhere before the event
    arrived: the older device's session ends, the new login and its grant stay."""
    old_device = login(broker.url, user="-000bob")
    time.sleep(3.1)
    removed_at = int(time.time())
    time.sleep(3.1)
    new_device = login(broker.url, user="-000bob")
    event = {"client_key": CLIENT_KEY, "event": "authorization.removed",
             "create_time": removed_at, "user_openid": "-000bob",
             "content": json.dumps({"reason": 1})}
    answer, _ = signed_webhook(broker.url, "", {}, None, body=json.dumps(event).encode())
    assert answer.status_code == 200 and answer.json() == {"status": "processed"}
    assert requests.get(f"{broker.url}/api/me", headers=old_device.bearer(),
                        timeout=10).status_code == 401
    assert refresh(old_device.browser, broker.url).status_code == 401
    assert requests.get(f"{broker.url}/api/me", headers=new_device.bearer(),
                        timeout=10).status_code == 200
    assert redis_client.exists("tb:grant:-000bob")
