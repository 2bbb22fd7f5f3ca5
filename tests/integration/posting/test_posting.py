"""Posting through the broker: creator info, pulls, photos, refusals, caps, status and cancel."""

from __future__ import annotations

import pytest
import requests

from tests.support.posting import (
    MEDIA,
    bearer,
    init_calls,
    start_upload,
    wait_for,
)

VERIFIED = {"TIKTOK_VERIFIED_URL_PREFIXES": f"{MEDIA},cdn.example.org"}
AUDITED = {"TIKTOK_AUDITED": "true", **VERIFIED}


def api(method, url, path, headers, **kw):
    return requests.request(method, f"{url}{path}", headers=headers, timeout=30, **kw)


def pull(url, headers, privacy="SELF_ONLY", mode="direct", video_url=f"{MEDIA}clip.mp4", **info):
    body = {"mode": mode, "post_info": {"privacy_level": privacy, **info}, "video_url": video_url}
    return api("POST", url, "/api/videos", headers, json=body)


def status_of(url, headers, publish_id):
    return api("GET", url, f"/api/publish/{publish_id}", headers).json()


def test_creator_info_with_the_apps_limits_cached_briefly(broker, roomy_sandbox):
    headers = bearer(broker.url, user="-000alice")
    first = api("GET", broker.url, "/api/creator-info", headers)
    second = api("GET", broker.url, "/api/creator-info", headers)

    assert first.status_code == 200, first.text
    info = first.json()
    assert info["creator_nickname"] == "Alice (public)"
    assert info["privacy_level_options"] == ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS",
                                             "SELF_ONLY"]
    assert info["max_video_post_duration_sec"] == 600
    assert info["app_audited"] is False and info["allowed_privacy_level_options"] == ["SELF_ONLY"]
    assert second.json() == info
    assert len(roomy_sandbox.requests(endpoint="creator_info")) == 1


def test_creator_info_on_an_audited_app_offers_every_option(broker_factory, roomy_sandbox):
    audited = broker_factory(**AUDITED)
    info = api("GET", audited.url, "/api/creator-info", bearer(audited.url, "-000alice")).json()
    assert info["app_audited"] is True
    assert info["allowed_privacy_level_options"] == info["privacy_level_options"]


@pytest.mark.parametrize(("user", "code"), [
    ("-000carol", "spam_risk_user_banned_from_posting"),
    ("-000dave", "spam_risk_too_many_posts"),
])
def test_caps_reported_with_http_200_are_errors(broker, roomy_sandbox, user, code):
    headers = bearer(broker.url, user=user)
    info = api("GET", broker.url, "/api/creator-info", headers)
    post = pull(broker.url, headers)

    assert info.status_code == 403 and info.json()["error"] == code
    assert info.json()["tiktok_log_id"]
    assert post.status_code == 403 and post.json()["error"] == code
    assert [r["endpoint"] for r in init_calls(roomy_sandbox)] == []


def test_active_user_cap_in_an_http_200_body(broker, roomy_sandbox):
    headers = bearer(broker.url)
    roomy_sandbox.fault("creator_info", "error_200", error="reached_active_user_cap", times=1)
    answer = api("GET", broker.url, "/api/creator-info", headers)
    assert answer.status_code == 403 and answer.json()["error"] == "reached_active_user_cap"


def test_direct_post_by_pull_completes_by_polling(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")  # no webhooks: only polling can tell
    headers = bearer(broker.url)
    started = pull(broker.url, headers, title="Pulled 🎬")

    assert started.status_code == 201, started.text
    publish_id = started.json()["publish_id"]
    assert started.json() == {"publish_id": publish_id}
    first = status_of(broker.url, headers, publish_id)
    assert first["status"] in ("PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE")
    done = wait_for(lambda: (s := status_of(broker.url, headers, publish_id))["status"]
                    == "PUBLISH_COMPLETE" and s)
    assert done == {"publish_id": publish_id, "status": "PUBLISH_COMPLETE", "fail_reason": None,
                    "post_ids": [], "uploaded_bytes": None}
    assert roomy_sandbox.requests(endpoint="status_fetch")
    assert roomy_sandbox.webhooks() == [] or all(
        publish_id not in w["body"] for w in roomy_sandbox.webhooks())


def test_status_polling_stays_within_tiktoks_rate_limit(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")
    headers = bearer(broker.url)
    publish_id = pull(broker.url, headers).json()["publish_id"]
    for _ in range(40):
        assert api("GET", broker.url, f"/api/publish/{publish_id}", headers).status_code == 200
    assert len(roomy_sandbox.requests(endpoint="status_fetch")) <= 3  # one per 2 s at most


def test_unaudited_app_posts_only_self_only_for_private_accounts(broker, roomy_sandbox):
    public = pull(broker.url, bearer(broker.url, user="-000alice"))
    refused = pull(broker.url, bearer(broker.url, user="-000bob"), privacy="FOLLOWER_OF_CREATOR")
    private = pull(broker.url, bearer(broker.url, user="-000bob"))

    # §5.9: TikTok itself refuses a public account, whatever the privacy level.
    assert public.status_code == 403
    assert public.json()["error"] == "unaudited_client_can_only_post_to_private_accounts"
    assert refused.status_code == 403 and refused.json()["error"] == "unaudited_app_self_only"
    assert private.status_code == 201
    assert [r["endpoint"] for r in init_calls(roomy_sandbox)] == ["video_init", "video_init"]


def test_audited_app_posts_publicly_and_gets_post_ids(broker_factory, roomy_sandbox):
    audited = broker_factory(**AUDITED)
    roomy_sandbox.configure(audited=True, webhook_url="")
    headers = bearer(audited.url, user="-000alice")
    started = pull(audited.url, headers, privacy="PUBLIC_TO_EVERYONE", video_url=f"{MEDIA}a.mp4")
    assert started.status_code == 201, started.text
    publish_id = started.json()["publish_id"]
    done = wait_for(lambda: (s := status_of(audited.url, headers, publish_id))["post_ids"] and s)
    assert done["status"] == "PUBLISH_COMPLETE" and done["post_ids"][0].isdigit()


def test_photo_posts_direct_and_draft(broker, roomy_sandbox):
    headers = bearer(broker.url)
    images = [f"{MEDIA}1.jpg", f"{MEDIA}2.jpg"]
    direct = api("POST", broker.url, "/api/photos", headers, json={
        "mode": "direct", "photo_images": images, "photo_cover_index": 1,
        "post_info": {"privacy_level": "SELF_ONLY", "title": "Two", "description": "photos",
                      "disable_comment": True}})
    draft = api("POST", broker.url, "/api/photos", headers, json={
        "mode": "draft", "photo_images": images, "post_info": {"title": "Draft"}})

    assert direct.status_code == 201, direct.text
    assert direct.json()["publish_id"].startswith("p_pub_")
    assert draft.status_code == 201 and draft.json()["publish_id"].startswith("p_inbox_")
    assert [r["endpoint"] for r in init_calls(roomy_sandbox)] == ["content_init"] * 2
    wait_for(lambda: status_of(broker.url, headers, draft.json()["publish_id"])["status"]
             == "SEND_TO_USER_INBOX")


def test_video_draft_by_pull(broker, roomy_sandbox):
    headers = bearer(broker.url, user="-000alice", scopes=["user.info.basic", "video.upload"])
    started = api("POST", broker.url, "/api/videos", headers,
                  json={"mode": "draft", "post_info": {}, "video_url": f"{MEDIA}d.mp4"})
    assert started.status_code == 201, started.text
    assert started.json()["publish_id"].startswith("v_inbox_url")


LONG_TITLE = "😀" * 1101  # 1101 characters but 2202 UTF-16 units (§5.2 limit: 2200)
REFUSALS = [
    ({"mode": "publish"}, 400, "invalid_mode"),
    ({"post_info": {}}, 400, "privacy_level_required"),
    ({"post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": True}}, 400,
     "branded_content_private"),
    ({"post_info": {"privacy_level": "SELF_ONLY", "title": LONG_TITLE}}, 400, "title_too_long"),
    ({"post_info": {"privacy_level": "PUBLIC_TO_EVERYONE"}}, 403, "unaudited_app_self_only"),
    ({"post_info": {"privacy_level": "SELF_ONLY", "colour": "red"}}, 400, "invalid_post_info"),
    ({"video_url": "http://media.example.com/v.mp4"}, 400, "media_url_not_https"),
    ({"video_url": "https://evil.example.net/media.example.com/v.mp4"}, 400,
     "url_ownership_unverified"),
    ({"video_url": "https://media.example.com.evil.net/v.mp4"}, 400, "url_ownership_unverified"),
    ({"video_url": None, "video_size": 4 * 1024 ** 3 + 1}, 413, "video_too_large"),
    ({"video_url": None, "video_size": 0}, 400, "invalid_video_size"),
    ({"video_size": 1000}, 400, "invalid_video_source"),
]


@pytest.mark.parametrize(("change", "status", "code"), REFUSALS,
                         ids=[code + str(i) for i, (_, _, code) in enumerate(REFUSALS)])
def test_refusals_never_reach_tiktok(broker_factory, roomy_sandbox, redis_client, change,
                                     status, code):
    verified = broker_factory(**VERIFIED)
    headers = bearer(verified.url)
    body = {"mode": "direct", "post_info": {"privacy_level": "SELF_ONLY"},
            "video_url": f"{MEDIA}v.mp4", **change}
    body = {k: v for k, v in body.items() if v is not None}
    roomy_sandbox.reset_log()

    answer = api("POST", verified.url, "/api/videos", headers, json=body)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code and answer.json()["error_description"]
    assert roomy_sandbox.requests() == []


def test_privacy_option_mismatch_is_checked_against_cached_creator_info(broker_factory,
                                                                       roomy_sandbox):
    audited = broker_factory(**AUDITED)
    headers = bearer(audited.url, user="-000alice")
    assert api("GET", audited.url, "/api/creator-info", headers).status_code == 200
    roomy_sandbox.reset_log()

    answer = pull(audited.url, headers, privacy="FOLLOWER_OF_CREATOR")  # private accounts only

    assert answer.status_code == 400 and answer.json()["error"] == "privacy_level_option_mismatch"
    assert roomy_sandbox.requests() == []


def test_missing_scope_refused_before_tiktok(broker, roomy_sandbox):
    headers = bearer(broker.url, scopes=["user.info.basic", "video.upload"])
    roomy_sandbox.reset_log()
    direct = pull(broker.url, headers)
    info = api("GET", broker.url, "/api/creator-info", headers)
    assert direct.status_code == 403 and direct.json()["error"] == "scope_not_granted"
    assert info.status_code == 403 and info.json()["error"] == "scope_not_granted"
    assert roomy_sandbox.requests() == []


def test_photo_refusals_never_reach_tiktok(broker, roomy_sandbox):
    headers = bearer(broker.url)
    roomy_sandbox.reset_log()
    cases = [
        ({"photo_images": []}, "invalid_photo_images"),
        ({"photo_images": [f"{MEDIA}{i}.jpg" for i in range(36)]}, "invalid_photo_images"),
        ({"photo_cover_index": 2}, "invalid_photo_cover_index"),
        ({"post_info": {"privacy_level": "SELF_ONLY", "title": "x" * 91}}, "title_too_long"),
        ({"post_info": {"privacy_level": "SELF_ONLY", "description": "é" * 4001}},
         "description_too_long"),
    ]
    for change, code in cases:
        body = {"mode": "direct", "photo_images": [f"{MEDIA}1.jpg"],
                "post_info": {"privacy_level": "SELF_ONLY"}, **change}
        answer = api("POST", broker.url, "/api/photos", headers, json=body)
        assert answer.status_code == 400 and answer.json()["error"] == code, (code, answer.text)
    assert roomy_sandbox.requests() == []


def test_malformed_requests_get_4xx(broker, roomy_sandbox):
    headers = bearer(broker.url)
    for path in ("/api/videos", "/api/photos"):
        assert api("POST", broker.url, path, headers, data="nope").status_code == 400
        assert api("POST", broker.url, path, headers, json=[1]).json()["error"] == "invalid_json"
    assert api("GET", broker.url, "/api/publish/bad id!", headers).status_code == 400
    assert api("GET", broker.url, "/api/creator-info", {}).status_code == 401


def test_tiktok_429_becomes_429_with_retry_after(broker, roomy_sandbox):
    headers = bearer(broker.url)
    roomy_sandbox.fault("video_init", "rate_limit", times=1)
    answer = pull(broker.url, headers)
    assert answer.status_code == 429 and answer.json()["error"] == "tiktok_rate_limited"
    assert int(answer.headers["Retry-After"]) >= 1


def test_tiktok_refusals_keep_their_codes(broker, roomy_sandbox):
    headers = bearer(broker.url)
    roomy_sandbox.fault("video_init", "status", status=403, error="url_ownership_unverified",
                        times=1)
    roomy_sandbox.fault("video_init", "error_200", error="spam_risk_too_many_pending_share",
                        times=1)
    first, second = pull(broker.url, headers), pull(broker.url, headers)
    assert (first.status_code, first.json()["error"]) == (403, "url_ownership_unverified")
    assert (second.status_code, second.json()["error"]) == (403,
                                                            "spam_risk_too_many_pending_share")


def test_cancel_a_running_pull(broker, roomy_sandbox):
    roomy_sandbox.configure(webhook_url="")
    headers = bearer(broker.url)
    publish_id = pull(broker.url, headers).json()["publish_id"]

    cancelled = api("POST", broker.url, f"/api/publish/{publish_id}/cancel", headers)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "FAILED"
    assert cancelled.json()["fail_reason"] == "publish_cancelled"
    again = api("POST", broker.url, f"/api/publish/{publish_id}/cancel", headers)
    assert again.status_code == 409 and again.json()["error"] == "publish_not_cancellable"


def test_uploads_are_not_cancellable(broker, roomy_sandbox):
    headers = bearer(broker.url)
    publish_id = start_upload(broker.url, headers, 1024).json()["publish_id"]
    roomy_sandbox.reset_log()
    answer = api("POST", broker.url, f"/api/publish/{publish_id}/cancel", headers)
    assert answer.status_code == 409 and answer.json()["error"] == "publish_not_cancellable"
    assert roomy_sandbox.requests() == []


def test_verification_files_are_served_for_tiktok(broker_factory):
    served = broker_factory(TIKTOK_VERIFICATION_FILES="tiktokAbC123.txt=tiktok-developers-site-"
                                                      "verification=AbC123")
    answer = requests.get(f"{served.url}/tiktokAbC123.txt", timeout=10)
    assert answer.status_code == 200
    assert answer.text == "tiktok-developers-site-verification=AbC123"
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert requests.get(f"{served.url}/tiktokOther.txt", timeout=10).status_code == 404
