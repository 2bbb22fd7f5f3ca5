"""The "Post to TikTok" page in a real browser: TikTok's Content Sharing Guidelines (tiktok-api.md
§5.10), a real upload through the broker with progress, the status followed to its end, and the
refusals explained. The app is unaudited (TIKTOK_AUDITED and the sandbox's default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import login
from tests.support.spa import Stack

POST_TIMEOUT_MS = 60_000


def open_post_page(page: Any, stack: Stack, user: str) -> None:
    login(page, stack.spa.url, user=user, path="/post")
    expect(page.get_by_test_id("creator")).to_be_visible()


def choose_video(page: Any, video: Path) -> None:
    page.get_by_test_id("video-file").set_input_files(str(video))
    expect(page.get_by_test_id("video-meta")).to_contain_text("2 s")
    expect(page.get_by_test_id("preview")).to_be_visible()


def test_unaudited_direct_post_offers_only_only_me_and_follows_the_guidelines(
        page: Any, stack: Stack, sample_video: Path) -> None:
    open_post_page(page, stack, "-000alice")
    expect(page.get_by_test_id("creator-nickname")).to_have_text("Alice (public)")

    # Why only "Only me": said in words, and a public account is warned up front.
    expect(page.get_by_test_id("unaudited-notice")).to_contain_text("not passed TikTok\u2019s")
    expect(page.get_by_test_id("unaudited-notice")).to_contain_text("“Only me”")
    expect(page.get_by_test_id("unaudited-public")).to_contain_text("account is public")

    # Privacy: the creator offers three options; an unaudited app may use only "Only me";
    # and nothing is chosen by default.
    privacy = page.get_by_test_id("privacy")
    options = privacy.locator("option")
    assert options.all_inner_texts() == ["Choose who can see this video", "Only me"]
    assert options.first.is_disabled()
    assert privacy.input_value() == ""

    # Interactions unchecked by default (Alice's account allows all three).
    for box in ("allow-comment", "allow-duet", "allow-stitch"):
        expect(page.get_by_test_id(box)).not_to_be_checked()
        expect(page.get_by_test_id(box)).to_be_enabled()

    # The consent line, before the button.
    expect(page.get_by_test_id("consent")).to_have_text(
        "By posting, you agree to TikTok\u2019s Music Usage Confirmation.")

    publish = page.get_by_test_id("publish")
    expect(publish).to_be_disabled()
    expect(page.get_by_test_id("publish-hint")).to_have_text("Choose a video.")
    choose_video(page, sample_video)
    expect(page.get_by_test_id("publish-hint")).to_have_text("Choose who can see this video.")
    privacy.select_option("SELF_ONLY")
    expect(publish).to_be_enabled()

    # Commercial content disclosure: off by default; on, it needs a box ticked (hover hint).
    commercial = page.get_by_test_id("commercial")
    expect(commercial).not_to_be_checked()
    commercial.check()
    expect(publish).to_be_disabled()
    assert "promotes yourself, a third party, or both" in publish.get_attribute("title")
    page.get_by_test_id("your-brand").check()
    expect(page.get_by_test_id("commercial-label")).to_contain_text("Promotional content")
    expect(publish).to_be_enabled()
    # Branded content cannot be private, and "Only me" is all an unaudited app has.
    expect(page.get_by_test_id("branded-content")).to_be_disabled()
    expect(page.get_by_test_id("branded-unavailable")).to_contain_text(
        "Branded content visibility cannot be set to private.")
    commercial.uncheck()

    # TikTok refuses a direct post from a public account while the app is unaudited: the SPA
    # says why, in words.
    publish.click()
    error = page.get_by_test_id("post-error")
    expect(error).to_contain_text("private accounts", timeout=POST_TIMEOUT_MS)
    expect(error).to_contain_text("audit")


def test_direct_post_uploads_with_progress_and_follows_status_to_completion(
        page: Any, stack: Stack, sample_video: Path, tiktok_sandbox: Any) -> None:
    open_post_page(page, stack, "-000bob")  # a private account: unaudited posting is allowed
    expect(page.get_by_test_id("creator-nickname")).to_have_text("Bob (private)")
    # A private account has duet and stitch turned off: greyed out and disabled.
    expect(page.get_by_test_id("allow-duet")).to_be_disabled()
    expect(page.get_by_test_id("allow-stitch")).to_be_disabled()
    expect(page.get_by_test_id("allow-comment")).to_be_enabled()
    expect(page.get_by_test_id("unaudited-public")).to_have_count(0)

    choose_video(page, sample_video)
    page.get_by_test_id("title").fill("e2e clip #test")
    page.get_by_test_id("privacy").select_option("SELF_ONLY")
    page.get_by_test_id("allow-comment").check()
    page.get_by_test_id("publish").click()

    status = page.get_by_test_id("post-status")
    expect(page.get_by_test_id("upload-progress")).to_be_visible(timeout=POST_TIMEOUT_MS)
    expect(page.get_by_test_id("upload-percent")).to_have_text("100%", timeout=POST_TIMEOUT_MS)
    expect(page.get_by_test_id("post-done")).to_contain_text("Published on TikTok.",
                                                             timeout=POST_TIMEOUT_MS)
    expect(status).to_have_attribute("data-phase", "done")
    expect(page.get_by_test_id("publish-status")).to_have_text("PUBLISH_COMPLETE")
    progress = page.get_by_test_id("upload-progress")
    size = sample_video.stat().st_size
    assert float(progress.get_attribute("value")) == float(progress.get_attribute("max")) == size

    publish_id = page.get_by_test_id("publish-id").inner_text()
    calls = page.log.calls
    assert any(c["method"] == "POST" and c["path"] == "/api/videos" and c["status"] == 201
               for c in calls)
    uploads = [c for c in calls if c["method"] == "PUT" and c["path"].startswith("/api/uploads/")]
    assert uploads and uploads[-1]["status"] in (200, 201)
    assert any(c["path"].startswith("/api/publish/") for c in calls)

    # What reached TikTok: a direct FILE_UPLOAD post, "Only me", and every byte of the file.
    task = tiktok_sandbox.upload(publish_id)
    assert (task["open_id"], task["mode"], task["source"], task["privacy_level"]) == (
        "-000bob", "direct", "FILE_UPLOAD", "SELF_ONLY")
    assert task["status"] == "PUBLISH_COMPLETE"
    assert task["video_size"] == task["received_bytes"] == size
    assert [r["status"] for r in tiktok_sandbox.requests(endpoint="video_init")] == [200]
    assert tiktok_sandbox.requests(endpoint="upload")[-1]["status"] == 201


def test_draft_upload_goes_to_the_inbox(page: Any, stack: Stack, sample_video: Path,
                                       tiktok_sandbox: Any) -> None:
    open_post_page(page, stack, "-000alice")
    page.get_by_test_id("mode-draft").check()
    expect(page.get_by_test_id("draft-note")).to_be_visible()
    expect(page.get_by_test_id("privacy")).to_have_count(0)
    choose_video(page, sample_video)
    publish = page.get_by_test_id("publish")
    expect(publish).to_have_text("Send to inbox")
    publish.click()
    expect(page.get_by_test_id("upload-percent")).to_have_text("100%", timeout=POST_TIMEOUT_MS)
    expect(page.get_by_test_id("post-done")).to_contain_text("inbox", timeout=POST_TIMEOUT_MS)
    expect(page.get_by_test_id("publish-status")).to_have_text("SEND_TO_USER_INBOX")
    publish_id = page.get_by_test_id("publish-id").inner_text()
    task = tiktok_sandbox.upload(publish_id)
    assert (task["open_id"], task["mode"]) == ("-000alice", "inbox")
    assert task["received_bytes"] == sample_video.stat().st_size


@pytest.mark.parametrize(("user", "words"), [
    ("-000carol", "does not allow this account to post"),
    ("-000dave", "daily limit"),
])
def test_creator_who_cannot_post_is_told_to_try_later(page: Any, stack: Stack, user: str,
                                                      words: str) -> None:
    login(page, stack.spa.url, user=user, path="/post")
    stop = page.get_by_test_id("try-later")
    expect(stop).to_contain_text("can\u2019t post right now")
    expect(stop).to_contain_text(words)
    expect(stop).to_contain_text("try again later")
    expect(page.get_by_test_id("publish")).to_have_count(0)


def mp4_declaring(seconds: int) -> bytes:
    """An MP4 whose movie header (mvhd) declares `seconds` of video (and holds no frames)."""
    import struct

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = (b"\0\0\0\0" + struct.pack(">IIII", 0, 0, 1000, seconds * 1000)
            + struct.pack(">IH", 0x10000, 0x100) + b"\0" * 10 + matrix + b"\0" * 24
            + struct.pack(">I", 2))
    return box(b"ftyp", b"isom\0\0\2\0isomavc1") + box(b"moov", box(b"mvhd", mvhd))


def test_video_longer_than_the_creators_maximum_is_refused(page: Any, stack: Stack,
                                                           tmp_path: Path) -> None:
    open_post_page(page, stack, "-000alice")
    long_video = tmp_path / "long.mp4"
    long_video.write_bytes(mp4_declaring(3600))
    page.get_by_test_id("video-file").set_input_files(str(long_video))
    error = page.get_by_test_id("video-error")
    expect(error).to_contain_text("This video is 60 min 00 s long")
    expect(error).to_contain_text("your account can post videos of at most")
    page.get_by_test_id("privacy").select_option("SELF_ONLY")
    expect(page.get_by_test_id("publish")).to_be_disabled()
    assert page.log.broker_calls("/api/videos") == []
