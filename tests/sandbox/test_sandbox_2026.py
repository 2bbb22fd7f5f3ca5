"""The sandbox's switches for the behaviour integrators reported in 2026 (tiktok-api.md §5.11)."""

from __future__ import annotations

import time

MiB = 1024 * 1024
PHOTO = "https://media.example.com/photos/"


def _photo(tt, tokens, images, mode="MEDIA_UPLOAD"):
    return tt.post("content/init/", tokens, {
        "media_type": "PHOTO", "post_mode": mode, "post_info": {"title": "t"},
        "source_info": {"source": "PULL_FROM_URL", "photo_images": images}})


def _final(tt, tokens, publish_id, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        data = tt.status(tokens, publish_id).json()["data"]
        if data["status"] in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED") \
                or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def test_multi_chunk_inits_refused_single_chunk_kept(sandbox, tt):
    bob = tt.login("-000bob")
    sandbox.configure(refuse_multi_chunk=True)
    refused = tt.init_upload(bob, 20 * MiB, 10 * MiB, 2)
    assert refused.status_code == 400
    assert refused.json()["error"] == {**refused.json()["error"], "code": "invalid_params",
                                       "message": "The chunk size is invalid"}
    assert tt.init_upload(bob, 20 * MiB, 20 * MiB, 1).status_code == 200
    sandbox.configure(refuse_multi_chunk=False)
    assert tt.init_upload(bob, 20 * MiB, 10 * MiB, 2).status_code == 200


def test_photo_failures_found_after_the_init(sandbox, tt):
    bob = tt.login("-000bob")
    sandbox.configure(photo_fail_reason="picture_size_check_failed")
    big = _photo(tt, bob, [PHOTO + "a.jpg", PHOTO + "b.jpg"]).json()["data"]["publish_id"]
    assert _final(tt, bob, big) ["fail_reason"] == "picture_size_check_failed"
    sandbox.configure(photo_fail_reason="", refuse_png=True)
    png = _photo(tt, bob, [PHOTO + "a.png"]).json()["data"]["publish_id"]
    jpeg = _photo(tt, bob, [PHOTO + "a.jpg"]).json()["data"]["publish_id"]
    assert _final(tt, bob, png)["fail_reason"] == "file_format_check_failed"
    assert _final(tt, bob, jpeg)["status"] == "SEND_TO_USER_INBOX"


def test_drafts_refused_for_an_old_app(sandbox, tt):
    bob = tt.login("-000bob")
    sandbox.configure(inbox_app_too_old=True)
    refused = tt.init_upload(bob, 1 * MiB, 1 * MiB, 1, path="inbox/video/init/")
    assert refused.json()["error"]["code"] == "app_version_check_failed"
    assert _photo(tt, bob, [PHOTO + "a.jpg"]).json()["error"]["code"] == \
        "app_version_check_failed"
    direct = tt.init_upload(bob, 1 * MiB, 1 * MiB, 1)
    assert direct.status_code == 200


def test_public_post_ids_can_arrive_late(sandbox, tt, receiver):
    carol = tt.login("-000alice")
    sandbox.configure(audited=True, public_id_delay=1.5)
    started = tt.post("video/init/", carol, {
        "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "t"},
        "source_info": {"source": "PULL_FROM_URL",
                        "video_url": "https://media.example.com/v.mp4"}})
    publish_id = started.json()["data"]["publish_id"]
    done = _final(tt, carol, publish_id)
    assert done["status"] == "PUBLISH_COMPLETE" and done["publicaly_available_post_id"] == []
    time.sleep(2.0)
    later = tt.status(carol, publish_id).json()["data"]
    assert len(later["publicaly_available_post_id"]) == 1
