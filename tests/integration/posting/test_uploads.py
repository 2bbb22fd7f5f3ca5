"""Uploads through the broker: chunk plans by TikTok's floor rule, retries, resume, ownership."""

from __future__ import annotations

import pytest
import requests

from broker.storage.vault import Vault
from tests.support.env import TEST_ENCRYPTION_KEY
from tests.support.posting import (
    MIB,
    bearer,
    init_calls,
    pattern,
    put_file,
    start_upload,
    wait_for,
)


def expected_ranges(size: int, chunk: int, count: int) -> list[str]:
    """The Content-Range of every chunk under §5.6's floor rule."""
    ranges = []
    for i in range(count):
        first = i * chunk
        last = size - 1 if i == count - 1 else first + chunk - 1
        ranges.append(f"bytes {first}-{last}/{size}")
    return ranges


@pytest.mark.parametrize(("size", "chunk", "count"), [
    (1 * MIB, 1 * MIB, 1),  # under 5 MiB: one piece
    (23 * MIB, 10 * MIB, 2),  # floor(23/10) = 2; the last chunk takes 13 MiB
    (130 * MIB, 10 * MIB, 13),  # over 64 MiB: must be chunked
])
def test_direct_upload_follows_the_chunk_plan(broker, roomy_sandbox, size, chunk, count):
    headers = bearer(broker.url)
    started = start_upload(broker.url, headers, size)
    assert started.status_code == 201, started.text
    publish_id, path = started.json()["publish_id"], started.json()["upload_url"]
    assert path == f"/api/uploads/{publish_id}"

    answer = put_file(broker.url, path, headers, size)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"publish_id": publish_id, "status": "PROCESSING_UPLOAD",
                             "fail_reason": None, "post_ids": None, "uploaded_bytes": size}
    seen = roomy_sandbox.upload(publish_id)
    assert (seen["video_size"], seen["chunk_size"], seen["total_chunk_count"]) == \
        (size, chunk, count)
    assert [c["content_range"] for c in seen["chunks"]] == expected_ranges(size, chunk, count)
    assert all(c["accepted"] for c in seen["chunks"]) and seen["received_bytes"] == size
    assert [c["status"] for c in seen["chunks"]] == [206] * (count - 1) + [201]
    final = wait_for(lambda: _status_if(broker.url, headers, publish_id, "PUBLISH_COMPLETE"))
    assert final["uploaded_bytes"] == size


def _status_if(url, headers, publish_id, wanted):
    body = requests.get(f"{url}/api/publish/{publish_id}", headers=headers, timeout=10).json()
    return body if body.get("status") == wanted else None


def test_draft_upload_goes_to_the_inbox(broker, roomy_sandbox):
    headers = bearer(broker.url, user="-000alice", scopes=["user.info.basic", "video.upload"])
    started = start_upload(broker.url, headers, 6 * MIB, mode="draft", post_info={})
    assert started.status_code == 201, started.text
    publish_id = started.json()["publish_id"]
    assert put_file(broker.url, started.json()["upload_url"], headers, 6 * MIB).status_code == 200
    seen = roomy_sandbox.upload(publish_id)
    assert seen["mode"] == "inbox" and seen["total_chunk_count"] == 1
    assert [r["endpoint"] for r in init_calls(roomy_sandbox)][:1] == ["inbox_video_init"]
    wait_for(lambda: _status_if(broker.url, headers, publish_id, "SEND_TO_USER_INBOX"))


def test_only_the_creator_may_upload(broker, roomy_sandbox):
    owner, other = bearer(broker.url), bearer(broker.url, user="-000alice")
    started = start_upload(broker.url, owner, 1 * MIB).json()
    roomy_sandbox.reset_log()

    answer = put_file(broker.url, started["upload_url"], other, 1 * MIB)

    assert answer.status_code == 404 and answer.json()["error"] == "publish_not_found"
    assert init_calls(roomy_sandbox) == []
    assert requests.get(f"{broker.url}/api/publish/{started['publish_id']}", headers=other,
                        timeout=10).status_code == 404


def test_refusals_before_any_byte_reaches_tiktok(broker, roomy_sandbox):
    headers = bearer(broker.url)
    too_big = start_upload(broker.url, headers, 4 * 1024 * MIB + 1)
    assert too_big.status_code == 413 and too_big.json()["error"] == "video_too_large"
    started = start_upload(broker.url, headers, 6 * MIB).json()
    roomy_sandbox.reset_log()

    wrong_size = put_file(broker.url, started["upload_url"], headers, 5 * MIB)
    wrong_type = put_file(broker.url, started["upload_url"], headers, 6 * MIB,
                          content_type="image/png")

    assert wrong_size.status_code == 400 and wrong_size.json()["error"] == "upload_size_mismatch"
    assert wrong_type.status_code == 415 and wrong_type.json()["error"] == "unsupported_media_type"
    assert init_calls(roomy_sandbox) == []


@pytest.mark.parametrize("fault", [{"kind": "status", "status": 500}, {"kind": "drop"},
                                   {"kind": "status", "status": 503}])
def test_a_failed_chunk_is_sent_again(broker, roomy_sandbox, fault):
    headers = bearer(broker.url)
    started = start_upload(broker.url, headers, 23 * MIB).json()
    roomy_sandbox.fault("upload", times=1, **fault)

    answer = put_file(broker.url, started["upload_url"], headers, 23 * MIB)

    assert answer.status_code == 200, answer.text
    puts = roomy_sandbox.requests(endpoint="upload")
    assert [p["content_range"] for p in puts] == [
        f"bytes 0-{10 * MIB - 1}/{23 * MIB}", f"bytes 0-{10 * MIB - 1}/{23 * MIB}",
        f"bytes {10 * MIB}-{23 * MIB - 1}/{23 * MIB}"]
    assert roomy_sandbox.upload(started["publish_id"])["received_bytes"] == 23 * MIB


def test_a_new_put_resumes_after_tiktok_kept_failing(broker, roomy_sandbox):
    headers = bearer(broker.url)
    started = start_upload(broker.url, headers, 6 * MIB).json()
    roomy_sandbox.fault("upload", "status", status=500, times=4)

    failed = put_file(broker.url, started["upload_url"], headers, 6 * MIB)
    assert failed.status_code == 502 and failed.json()["error"] == "tiktok_upload_failed"

    again = put_file(broker.url, started["upload_url"], headers, 6 * MIB)
    assert again.status_code == 200 and again.json()["uploaded_bytes"] == 6 * MIB
    repeat = put_file(broker.url, started["upload_url"], headers, 6 * MIB)
    assert repeat.status_code == 409 and repeat.json()["error"] == "upload_already_complete"


@pytest.mark.parametrize("convention", ["inclusive", "count"])
def test_416_resumes_from_tiktoks_range(broker, roomy_sandbox, redis_client, convention):
    """A chunk TikTok took but whose answer was lost: the broker reads TikTok's Content-Range
    (as an inclusive last byte or as a count, §5.6) and carries on from there."""
    roomy_sandbox.configure(upload_range=convention)
    headers = bearer(broker.url)
    size = 23 * MIB
    started = start_upload(broker.url, headers, size).json()
    publish_id = started["publish_id"]
    sealed = redis_client.hget(f"tb:publish:{publish_id}", "upload_url")
    assert "upload_token" not in sealed  # the upload_url is sealed at rest
    upload_url = Vault((_key(),)).decrypt(sealed, f"upload-url:{publish_id}:-000bob").decode()
    first = b"".join(pattern(10 * MIB))
    direct = requests.put(upload_url, data=first, timeout=30, headers={
        "Content-Type": "video/mp4", "Content-Range": f"bytes 0-{10 * MIB - 1}/{size}"})
    assert direct.status_code == 206

    answer = put_file(broker.url, started["upload_url"], headers, size)

    assert answer.status_code == 200, answer.text
    statuses = [(c["content_range"], c["status"]) for c in
                roomy_sandbox.upload(publish_id)["chunks"]]
    assert statuses == [(f"bytes 0-{10 * MIB - 1}/{size}", 206),
                        (f"bytes 0-{10 * MIB - 1}/{size}", 416),
                        (f"bytes {10 * MIB}-{size - 1}/{size}", 201)]


def _key() -> bytes:
    import base64
    return base64.urlsafe_b64decode(TEST_ENCRYPTION_KEY)
