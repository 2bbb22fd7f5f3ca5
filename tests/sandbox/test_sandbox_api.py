"""User info and creator info (tiktok-api.md §4, §5.1), rate limits (§7)."""

from __future__ import annotations

import pytest

BASIC = "open_id,union_id,avatar_url,avatar_url_100,avatar_large_url,display_name"
PROFILE = "bio_description,profile_deep_link,is_verified,username"
STATS = "follower_count,following_count,likes_count,video_count"


def test_user_info_returns_only_requested_fields_in_envelope(tt):
    tokens = tt.login()
    resp = tt.user_info(tokens, "open_id,display_name")
    assert resp.status_code == 200
    body = resp.json()
    assert body["data"] == {"user": {"open_id": "-000alice", "display_name": "Alice (public)"}}
    assert body["error"]["code"] == "ok" and body["error"]["log_id"]


def test_every_field_with_every_scope(tt):
    tokens = tt.login()
    user = tt.user_info(tokens, f"{BASIC},{PROFILE},{STATS}").json()["data"]["user"]
    assert len(user) == 14
    assert user["username"] == "alice.sandbox" and user["is_verified"] is True
    assert isinstance(user["follower_count"], int) and user["union_id"] != user["open_id"]


@pytest.mark.parametrize(("scopes", "fields", "ok"), [
    ("user.info.basic", BASIC, True),
    ("user.info.basic", "open_id,username", False),
    ("user.info.basic", "follower_count", False),
    ("user.info.basic,user.info.profile", f"{BASIC},{PROFILE}", True),
    ("user.info.basic,user.info.profile", "video_count", False),
    ("user.info.basic,user.info.stats", STATS, True),
    ("user.info.profile", "open_id", False),
])
def test_field_by_scope(tt, scopes, fields, ok):
    resp = tt.user_info(tt.login(scopes=scopes), fields)
    if ok:
        assert resp.status_code == 200 and resp.json()["error"]["code"] == "ok"
    else:
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "scope_not_authorized"


def test_scope_permission_missed_switch(tt, sandbox):
    sandbox.configure(missing_scope_error="scope_permission_missed")
    resp = tt.user_info(tt.login(scopes="user.info.basic"), "username")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "scope_permission_missed"


def test_error_envelope_variants(tt, sandbox):
    tokens = tt.login()
    assert tt.user_info(tokens, "").json()["error"]["code"] == "invalid_params"
    assert tt.user_info(tokens, "open_id,email").status_code == 400
    sandbox.configure(error_data=False, api_errors_as_200=True)
    resp = tt.user_info(tokens, "email")
    assert resp.status_code == 200 and "data" not in resp.json()
    assert resp.json()["error"]["code"] == "invalid_params"


@pytest.mark.parametrize("header", [None, "Bearer act.nope", "Basic abc"])
def test_bad_token_is_401_access_token_invalid(tt, header):
    headers = {"Authorization": header} if header else {}
    resp = tt.http.get(f"{tt.url}/v2/user/info/?fields=open_id", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "access_token_invalid"
    assert resp.json()["data"] == {}


def test_expire_token_control_then_refresh_works(tt, sandbox):
    tokens = tt.login()
    assert sandbox.expire_token("-000alice") == 1
    assert tt.user_info(tokens, "open_id").json()["error"]["code"] == "access_token_invalid"
    fresh = tt.refresh(tokens["refresh_token"]).json()
    assert tt.user_info(fresh, "open_id").status_code == 200


def test_disconnect_control_revokes(tt, sandbox):
    tokens = tt.login()
    assert sandbox.disconnect("-000alice") == 1
    assert tt.user_info(tokens, "open_id").status_code == 401
    assert tt.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_creator_info_public_and_private(tt):
    alice = tt.post("creator_info/query/", tt.login()).json()
    assert alice["error"]["code"] == "ok"
    assert alice["data"]["privacy_level_options"] == [
        "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert alice["data"]["duet_disabled"] is False
    assert alice["data"]["creator_nickname"] == "Alice (public)"
    bob = tt.post("creator_info/query/", tt.login("-000bob")).json()["data"]
    assert bob["privacy_level_options"] == [
        "FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert bob["duet_disabled"] is True and bob["stitch_disabled"] is True
    assert bob["max_video_post_duration_sec"] == 180
    assert set(bob) == {"creator_avatar_url", "creator_username", "creator_nickname",
                        "privacy_level_options", "comment_disabled", "duet_disabled",
                        "stitch_disabled", "max_video_post_duration_sec"}


@pytest.mark.parametrize(("user", "code"), [
    ("-000carol", "spam_risk_user_banned_from_posting"),
    ("-000dave", "spam_risk_too_many_posts"),
])
def test_creator_info_refusals_come_with_http_200(tt, user, code):
    resp = tt.post("creator_info/query/", tt.login(user))
    assert resp.status_code == 200
    assert resp.json()["error"]["code"] == code


def test_creator_info_needs_video_publish(tt):
    resp = tt.post("creator_info/query/", tt.login(scopes="user.info.basic,video.upload"))
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "scope_not_authorized"


def test_creator_info_rate_limit_per_token(tt, sandbox):
    tokens, other = tt.login(), tt.login()
    codes = [tt.post("creator_info/query/", tokens).status_code for _ in range(21)]
    assert codes == [200] * 20 + [429]
    limited = tt.post("creator_info/query/", tokens).json()
    assert limited == {"data": {}, "error": {**limited["error"], "code": "rate_limit_exceeded"}}
    assert "x-ratelimit-reset" not in tt.post("creator_info/query/", tokens).headers
    assert tt.post("creator_info/query/", other).status_code == 200  # per token
    sandbox.configure(ratelimit_header=True)
    assert "x-ratelimit-reset" in tt.post("creator_info/query/", tokens).headers
    sandbox.advance_clock(61)  # sliding one-minute window
    assert tt.post("creator_info/query/", tokens).status_code == 200


def test_rate_limits_switch_off(tt, sandbox):
    sandbox.configure(rate_limits=False)
    tokens = tt.login()
    assert all(tt.post("creator_info/query/", tokens).status_code == 200 for _ in range(25))


def test_creator_can_post_switch(tt, sandbox):
    sandbox.configure(creator_can_post=True)
    assert tt.post("creator_info/query/", tt.login()).json()["data"]["creator_can_post"] is True
