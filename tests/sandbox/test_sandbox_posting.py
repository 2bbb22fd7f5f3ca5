"""Content Posting: init rules, unaudited rules, status progression, cancel (§5)."""

from __future__ import annotations

import time

import pytest

MiB = 1024 * 1024
PULL = "https://media.example.com/videos/clip.mp4"


def direct_pull(url=PULL, privacy="SELF_ONLY"):
    return {"post_info": {"privacy_level": privacy, "title": "hi #sandbox",
                          "brand_content_toggle": False, "brand_organic_toggle": False},
            "source_info": {"source": "PULL_FROM_URL", "video_url": url}}


def wait_status(tt, tokens, pid, wanted, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        data = tt.status(tokens, pid).json()["data"]
        if data["status"] == wanted or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


@pytest.fixture
def bob(tt):
    return tt.login("-000bob")


def test_direct_pull_progresses_to_publish_complete(tt, bob):
    resp = tt.post("video/init/", bob, direct_pull())
    assert resp.status_code == 200
    pid = resp.json()["data"]["publish_id"]
    assert pid.startswith("v_pub_url~") and "upload_url" not in resp.json()["data"]
    first = tt.status(bob, pid).json()
    assert first["error"]["code"] == "ok"
    assert first["data"]["status"] == "PROCESSING_DOWNLOAD"
    assert set(first["data"]) == {"status", "fail_reason", "publicaly_available_post_id",
                                  "downloaded_bytes"}
    done = wait_status(tt, bob, pid, "PUBLISH_COMPLETE")
    assert done["status"] == "PUBLISH_COMPLETE"
    assert done["publicaly_available_post_id"] == []  # SELF_ONLY is never public
    assert done["downloaded_bytes"] > 0


def test_file_upload_status_waits_for_the_bytes(tt, sandbox, bob):
    init = tt.init_upload(bob, 5 * MiB, 5 * MiB, 1).json()["data"]
    time.sleep(0.5)
    data = tt.status(bob, init["publish_id"]).json()["data"]
    assert data["status"] == "PROCESSING_UPLOAD" and data["uploaded_bytes"] == 0
    tt.put_chunk(init["upload_url"], 0, 5 * MiB, 5 * MiB)
    assert tt.status(bob, init["publish_id"]).json()["data"]["status"] == "PROCESSING_UPLOAD"
    done = wait_status(tt, bob, init["publish_id"], "PUBLISH_COMPLETE")
    assert done["uploaded_bytes"] == 5 * MiB


def test_inbox_upload_ends_in_send_to_user_inbox(tt, bob):
    body = {"source_info": {"source": "PULL_FROM_URL", "video_url": PULL}}
    pid = tt.post("inbox/video/init/", bob, body).json()["data"]["publish_id"]
    assert pid.startswith("v_inbox_url~")
    assert wait_status(tt, bob, pid, "SEND_TO_USER_INBOX")["status"] == "SEND_TO_USER_INBOX"
    file_init = tt.init_upload(bob, 5 * MiB, 5 * MiB, 1, path="inbox/video/init/").json()
    assert file_init["data"]["publish_id"].startswith("v_inbox_file~")


def test_inbox_needs_video_upload_scope(tt):
    tokens = tt.login("-000bob", scopes="user.info.basic,video.publish")
    body = {"source_info": {"source": "PULL_FROM_URL", "video_url": PULL}}
    resp = tt.post("inbox/video/init/", tokens, body)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "scope_not_authorized"


def test_pending_share_cap(tt, sandbox, bob):
    sandbox.configure(rate_limits=False)
    body = {"source_info": {"source": "PULL_FROM_URL", "video_url": PULL}}
    codes = [tt.post("inbox/video/init/", bob, body).status_code for _ in range(6)]
    assert codes == [200] * 5 + [403]
    resp = tt.post("inbox/video/init/", bob, body).json()
    assert resp["error"]["code"] == "spam_risk_too_many_pending_share"


def test_unaudited_rules(tt, sandbox, bob):
    alice = tt.login()
    resp = tt.post("video/init/", alice, direct_pull())
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
    resp = tt.post("video/init/", bob, direct_pull(privacy="FOLLOWER_OF_CREATOR"))
    assert resp.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
    resp = tt.post("video/init/", bob, direct_pull(privacy="PUBLIC_TO_EVERYONE"))
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "privacy_level_option_mismatch"


def test_unaudited_active_user_cap(tt, sandbox, bob):
    sandbox.configure(active_user_cap=1, audited=False)
    assert tt.post("video/init/", bob, direct_pull()).status_code == 200
    alice = tt.login()
    resp = tt.post("creator_info/query/", alice)
    assert resp.status_code == 200 and resp.json()["error"]["code"] == "reached_active_user_cap"


def test_audited_public_post_gets_post_id_and_webhooks(tt, sandbox):
    sandbox.configure(audited=True)
    alice = tt.login()
    pid = tt.post("video/init/", alice, direct_pull(privacy="PUBLIC_TO_EVERYONE")).json()
    done = wait_status(tt, alice, pid["data"]["publish_id"], "PUBLISH_COMPLETE")
    assert len(done["publicaly_available_post_id"]) == 1
    assert isinstance(done["publicaly_available_post_id"][0], int)


@pytest.mark.parametrize(("user", "code"), [
    ("-000carol", "spam_risk_user_banned_from_posting"),
    ("-000dave", "spam_risk_too_many_posts"),
])
def test_banned_and_capped_creators_get_403(tt, sandbox, user, code):
    sandbox.configure(audited=True)
    resp = tt.post("video/init/", tt.login(user), direct_pull())
    assert resp.status_code == 403 and resp.json()["error"]["code"] == code


def test_url_ownership(tt, sandbox, bob):
    resp = tt.post("video/init/", bob, direct_pull(url="https://other.example.org/v.mp4"))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "url_ownership_unverified"
    assert tt.post("video/init/", bob, direct_pull(url="http://media.example.com/v.mp4")
                   ).json()["error"]["code"] == "invalid_param"
    sandbox.configure(verified_url_prefixes="cdn.example.org,https://x.example.net/ok/")
    assert tt.post("video/init/", bob,
                   direct_pull(url="https://v.cdn.example.org/a.mp4")).status_code == 200
    assert tt.post("video/init/", bob,
                   direct_pull(url="https://x.example.net/ok/a.mp4")).status_code == 200
    assert tt.post("video/init/", bob,
                   direct_pull(url="https://x.example.net/no/a.mp4")).status_code == 403


@pytest.mark.parametrize(("size", "chunk", "count", "ok"), [
    (50_000_123, 10_000_000, 5, True),  # the docs' worked example
    (50_000_123, 10_000_000, 6, False),  # ceiling division
    (4 * MiB, 4 * MiB, 1, True),  # under 5 MiB: whole
    (4 * MiB, 2 * MiB, 2, False),  # under 5 MiB must not be chunked
    (30 * MiB, 4 * MiB, 7, False),  # chunk under 5 MiB
    (100 * MiB, 65 * MiB, 1, False),  # chunk over 64 MiB
    (100 * MiB, 100 * MiB, 1, False),  # over 64 MiB must be chunked
    (130 * MiB, 64 * MiB, 2, True),  # final chunk 66 MiB
    (200 * MiB, 64 * MiB, 3, True),  # final chunk 72 MiB
    (191 * MiB + 1, 63 * MiB, 3, True),
    (250 * MiB, 60 * MiB, 4, True),  # final 70 MiB
    (6000 * MiB, 5 * MiB, 1200, False),  # over 1000 chunks
    (0, 0, 0, False),
])
def test_chunk_rules(tt, bob, size, chunk, count, ok):
    resp = tt.init_upload(bob, size, chunk, count)
    if ok:
        assert resp.status_code == 200, resp.text
    else:
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_param"


def test_lenient_chunk_count_switch(tt, sandbox, bob):
    sandbox.configure(chunk_count="lenient")
    assert tt.init_upload(bob, 50_000_123, 10_000_000, 6).status_code == 200


def test_invalid_param_code_switch(tt, sandbox, bob):
    sandbox.configure(invalid_param_code="invalid_params")
    assert tt.init_upload(bob, 1, 2, 3).json()["error"]["code"] == "invalid_params"


def test_post_info_validation(tt, sandbox, bob):
    body = direct_pull()
    del body["post_info"]["privacy_level"]
    assert tt.post("video/init/", bob, body).status_code == 400
    body = direct_pull()
    body["post_info"]["title"] = "😀" * 1101  # 2202 UTF-16 units
    assert tt.post("video/init/", bob, body).status_code == 400
    sandbox.configure(require_brand_toggle=True)
    body = direct_pull()
    del body["post_info"]["brand_content_toggle"]
    assert tt.post("video/init/", bob, body).status_code == 400


def test_photo_post_direct_and_inbox(tt, sandbox, bob):
    photos = ["https://media.example.com/p/1.jpg", "https://media.example.com/p/2.jpg"]
    body = {"media_type": "PHOTO", "post_mode": "DIRECT_POST",
            "post_info": {"title": "t", "description": "d", "privacy_level": "SELF_ONLY"},
            "source_info": {"source": "PULL_FROM_URL", "photo_images": photos,
                            "photo_cover_index": 1}}
    resp = tt.post("content/init/", bob, body).json()
    assert resp["data"]["publish_id"].startswith("p_pub_url~")
    assert "upload_url" not in resp["data"]
    assert wait_status(tt, bob, resp["data"]["publish_id"], "PUBLISH_COMPLETE")["status"] == (
        "PUBLISH_COMPLETE")
    inbox = {**body, "post_mode": "MEDIA_UPLOAD", "post_info": {"title": "t"}}
    pid = tt.post("content/init/", bob, inbox).json()["data"]["publish_id"]
    assert pid.startswith("p_inbox_url~")
    spaced = {**body, "post_mode": "DIRECT POST"}
    assert tt.post("content/init/", bob, spaced).status_code == 200
    sandbox.configure(accept_spaced_post_mode=False)
    assert tt.post("content/init/", bob, spaced).status_code == 400
    too_many = {**body, "source_info": {"source": "PULL_FROM_URL", "photo_images": photos * 18}}
    assert tt.post("content/init/", bob, too_many).status_code == 400
    bad_url = {**body, "source_info": {"source": "PULL_FROM_URL",
                                       "photo_images": ["https://evil.example/x.jpg"]}}
    assert tt.post("content/init/", bob, bad_url).json()["error"]["code"] == (
        "url_ownership_unverified")


def test_cancel_a_pull_in_progress(tt, sandbox, bob):
    sandbox.configure(processing_seconds=30)
    pid = tt.post("video/init/", bob, direct_pull()).json()["data"]["publish_id"]
    resp = tt.post("cancel/", bob, {"publish_id": pid})
    assert resp.status_code == 200 and resp.json()["error"]["code"] == "ok"
    assert "data" not in resp.json()
    data = tt.status(bob, pid).json()["data"]
    assert (data["status"], data["fail_reason"]) == ("FAILED", "publish_cancelled")
    again = tt.post("cancel/", bob, {"publish_id": pid})
    assert again.status_code == 400 and again.json()["error"]["code"] == "publish_not_cancellable"


def test_status_fetch_errors(tt, bob):
    pid = tt.post("video/init/", bob, direct_pull()).json()["data"]["publish_id"]
    assert tt.status(bob, "v_pub_url~nope").json()["error"]["code"] == "invalid_publish_id"
    other = tt.login("-000alice")
    resp = tt.status(other, pid)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "token_not_authorized_for_specified_publish_id"


def test_forced_failure_and_disconnect_fail_tasks(tt, sandbox, bob):
    sandbox.configure(processing_seconds=30)
    pid = tt.post("video/init/", bob, direct_pull()).json()["data"]["publish_id"]
    sandbox.fail_publish(pid, "video_pull_failed")
    data = tt.status(bob, pid).json()["data"]
    assert (data["status"], data["fail_reason"]) == ("FAILED", "video_pull_failed")
    pid2 = tt.post("video/init/", bob, direct_pull()).json()["data"]["publish_id"]
    sandbox.disconnect("-000bob")
    fresh = tt.login("-000bob")
    assert tt.status(fresh, pid2).json()["data"]["fail_reason"] == "auth_removed"


def test_video_init_rate_limit(tt, bob):
    codes = [tt.post("video/init/", bob, direct_pull()).status_code for _ in range(7)]
    assert codes == [200] * 6 + [429]
