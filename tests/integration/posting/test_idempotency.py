"""Idempotency-Key on the post-starting routes, over real HTTP (SPEC "Posting that survives")."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.posting import MEDIA, bearer
from tests.support.service import connect, create_key, service

PULL = {"mode": "direct", "video_url": MEDIA + "clip.mp4",
        "post_info": {"privacy_level": "SELF_ONLY", "title": "once"}}


def _start(url: str, headers: dict[str, str], key: str, body: dict = PULL,
           route: str = "videos") -> requests.Response:
    return requests.post(f"{url}/api/{route}", json=body, timeout=30,
                         headers={**headers, "Idempotency-Key": key})


def test_the_same_key_twice_starts_one_post(broker, roomy_sandbox):
    auth = bearer(broker.url)
    first, second = _start(broker.url, auth, "k-1"), _start(broker.url, auth, "k-1")
    assert first.status_code == second.status_code == 201
    assert first.content == second.content and second.headers["Idempotent-Replayed"] == "true"
    assert len(roomy_sandbox.requests("video_init")) == 1
    other = _start(broker.url, auth, "k-2")  # another key: another post
    assert other.json()["publish_id"] != first.json()["publish_id"]
    upload = {"mode": "draft", "video_size": 6_000_000}
    one, two = _start(broker.url, auth, "u-1", upload), _start(broker.url, auth, "u-1", upload)
    assert one.json() == two.json() and one.json()["upload_url"].startswith("/api/uploads/")
    photo = {"mode": "draft", "photo_images": [MEDIA + "a.jpg"]}
    assert _start(broker.url, auth, "p-1", photo, "photos").content == \
        _start(broker.url, auth, "p-1", photo, "photos").content
    assert len(roomy_sandbox.requests("content_init")) == 1


def test_concurrent_requests_with_one_key_start_one_post(broker, roomy_sandbox):
    auth = bearer(broker.url)
    roomy_sandbox.fault("video_init", "latency", seconds=1.5)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: _start(broker.url, auth, "race"), range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    conflicts = [a.json()["error"] for a in answers if a.status_code == 409]
    assert set(conflicts) <= {"idempotency_in_progress"}
    assert len({a.json()["publish_id"] for a in answers if a.status_code == 201}) == 1
    assert len(roomy_sandbox.requests("video_init")) == 1
    replay = _start(broker.url, auth, "race")
    assert replay.status_code == 201 and len(roomy_sandbox.requests("video_init")) == 1


def test_a_key_reused_with_another_body_or_malformed_is_refused(broker, roomy_sandbox):
    auth = bearer(broker.url)
    assert _start(broker.url, auth, "same").status_code == 201
    changed = _start(broker.url, auth, "same", {**PULL, "post_info": {
        "privacy_level": "SELF_ONLY", "title": "twice"}})
    assert (changed.status_code, changed.json()["error"]) == (422, "idempotency_key_reused")
    for bad in ("", "x" * 256, "caf\u00e9", "tab\there"):
        answer = requests.post(f"{broker.url}/api/videos", json=PULL, timeout=10,
                               headers={**auth, "Idempotency-Key": bad.encode().decode(
                                   "latin-1")})
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_idempotency_key")
    assert len(roomy_sandbox.requests("video_init")) == 1
    # Keys are per caller: another user's same key is another request.
    alice = bearer(broker.url, "-000alice")
    assert _start(broker.url, alice, "same").status_code in (201, 403)


def test_a_refusal_is_replayed_and_a_tiktok_outage_is_not(broker, roomy_sandbox):
    auth = bearer(broker.url)
    roomy_sandbox.fault("video_init", "status", status=503, times=1)
    down = _start(broker.url, auth, "outage")
    assert down.status_code == 503
    again = _start(broker.url, auth, "outage")  # not stored: TikTok is asked again
    assert again.status_code == 201 and len(roomy_sandbox.requests("video_init")) == 2
    refused = {**PULL, "video_url": "https://elsewhere.example.org/v.mp4"}
    one, two = _start(broker.url, auth, "refused", refused), _start(broker.url, auth, "refused",
                                                                     refused)
    assert one.status_code == two.status_code and one.content == two.content


def test_a_crash_after_tikToks_answer_replays_it(broker, roomy_sandbox, redis_client):
    """The answer is kept as soon as TikTok accepts the post; a retry after the request died
    (its lease run out, the answer never sent) replays it and TikTok is not asked again."""
    auth = bearer(broker.url)
    first = _start(broker.url, auth, "crash")
    name = next(redis_client.scan_iter("tb:idem:*"))
    entry = __import__("json").loads(redis_client.get(name))
    entry.update(state="running", lease_until=0)  # as if the worker died before answering
    redis_client.set(name, __import__("json").dumps(entry), keepttl=True)
    retry = _start(broker.url, auth, "crash")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert len(roomy_sandbox.requests("video_init")) == 1
    assert redis_client.ttl(name) > 0


def test_keys_are_per_credential_holder_and_account(broker, roomy_sandbox):
    """Bob's own login, a service key acting for bob and a JWT minted for an app user holding
    bob's account all send "shared": three holders, three posts, no replay of another's answer."""
    login = bearer(broker.url)  # -000bob
    key = create_key(broker, ("accounts:write", "users:tokens", "posts:write", "posts:read"))
    connect(broker, key, "user-1", "-000bob")
    minted = requests.post(f"{broker.url}/service/user-tokens", headers=service(key),
                           json={"app_user_id": "user-1"}, timeout=10)
    assert minted.status_code == 200, minted.text
    app_user = {"Authorization": f"Bearer {minted.json()['access_token']}",
                "Broker-Account": "-000bob"}
    holders = [login, service(key, "-000bob"), app_user]
    answers = [_start(broker.url, h, "shared") for h in holders]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert not any("Idempotent-Replayed" in a.headers for a in answers)
    assert len({a.json()["publish_id"] for a in answers}) == 3
    assert len(roomy_sandbox.requests("video_init")) == 3
    # Another body under the same key from another holder is no reuse (no 422) ...
    other = {**PULL, "post_info": {"privacy_level": "SELF_ONLY", "title": "another"}}
    assert _start(broker.url, service(key, "-000bob"), "shared-2", other).status_code == 201
    assert _start(broker.url, login, "shared-2").status_code == 201
    # ... while each holder's own repeat still replays its own answer, TikTok called no more.
    for holder, first in zip(holders, answers, strict=True):
        again = _start(broker.url, holder, "shared")
        assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    assert _start(broker.url, login, "shared-2", other).json()["error"] == \
        "idempotency_key_reused"
    assert len(roomy_sandbox.requests("video_init")) == 5
