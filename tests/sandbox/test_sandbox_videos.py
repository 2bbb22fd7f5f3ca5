"""The sandbox's Display API (tiktok-api.md §4b): list by cursor, query by id, expiring covers."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.sandbox.conftest import ALL_SCOPES, TikTokClient
from tests.support.sandbox import Sandbox

SCOPES = ALL_SCOPES + ",video.list"
FIELDS = "id,create_time,cover_image_url,title,view_count,share_url"


def video_list(tt: TikTokClient, tokens: dict[str, Any], body: Any = None,
               fields: str = FIELDS) -> requests.Response:
    return tt.api("POST", "/v2/video/list/", tokens, params={"fields": fields},
                  json={"max_count": 20} if body is None else body)


def video_query(tt: TikTokClient, tokens: dict[str, Any], ids: Any,
                fields: str = FIELDS) -> requests.Response:
    return tt.api("POST", "/v2/video/query/", tokens, params={"fields": fields},
                  json={"filters": {"video_ids": ids}})


def test_list_pages_by_cursor_newest_first_public_only(tt: TikTokClient) -> None:
    tokens = tt.login(scopes=SCOPES)
    first = video_list(tt, tokens).json()
    assert first["error"]["code"] == "ok"
    page = first["data"]
    assert len(page["videos"]) == 20 and page["has_more"] is True
    times = [v["create_time"] for v in page["videos"]]
    assert times == sorted(times, reverse=True)
    assert page["cursor"] == times[-1] * 1000  # §4b: UTC milliseconds
    second = video_list(tt, tokens, {"cursor": page["cursor"], "max_count": 20}).json()["data"]
    assert len(second["videos"]) == 7 and second["has_more"] is False  # 27 public, 3 private
    ids = [v["id"] for v in page["videos"] + second["videos"]]
    assert len(set(ids)) == 27 and all(isinstance(i, str) for i in ids)
    assert set(page["videos"][0]) == set(FIELDS.split(","))  # only the fields asked for


def test_list_refuses_bad_page_sizes_and_fields(tt: TikTokClient) -> None:
    tokens = tt.login(scopes=SCOPES)
    for body in ({"max_count": 21}, {"max_count": 0}, {"max_count": "5"}, {"cursor": -1}):
        resp = video_list(tt, tokens, body)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_param"
    assert video_list(tt, tokens, fields="id,nope").json()["error"]["code"] == "invalid_params"
    assert video_list(tt, tokens, fields="").status_code == 400


def test_video_list_needs_the_scope(tt: TikTokClient) -> None:
    tokens = tt.login(scopes=ALL_SCOPES)
    for resp in (video_list(tt, tokens), video_query(tt, tokens, ["1"])):
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "scope_not_authorized"


def test_query_returns_only_own_public_videos(tt: TikTokClient) -> None:
    alice = tt.login(scopes=SCOPES)
    bob = tt.login(user="-000bob", scopes=SCOPES)
    alice_ids = [v["id"] for v in video_list(tt, alice).json()["data"]["videos"][:2]]
    bob_id = video_list(tt, bob).json()["data"]["videos"][0]["id"]
    private_alice = "7300000000000000029"  # her catalogue's last video is private
    found = video_query(tt, alice, [*alice_ids, bob_id, private_alice, "123"]).json()
    assert sorted(v["id"] for v in found["data"]["videos"]) == sorted(alice_ids)
    for ids in ([], [str(i) for i in range(21)], "1", [1]):
        assert video_query(tt, alice, ids).status_code == 400


def test_cover_urls_expire(tt: TikTokClient, sandbox: Sandbox) -> None:
    tokens = tt.login(scopes=SCOPES)
    url = video_list(tt, tokens).json()["data"]["videos"][0]["cover_image_url"]
    expires = int(parse_qs(urlsplit(url).query)["x-expires"][0])
    assert abs(expires - (time.time() + 21600)) < 60  # §4b: 6 hours
    assert tt.http.get(url, timeout=10).status_code == 200
    assert tt.http.get(url.replace("x-signature=", "x-signature=0"), timeout=10).status_code == 403
    sandbox.advance_clock(21601)
    assert tt.http.get(url, timeout=10).status_code == 403
    sandbox.configure(cover_url_ttl=60)
    tokens = tt.login(scopes=SCOPES)
    url = video_list(tt, tokens).json()["data"]["videos"][0]["cover_image_url"]
    assert int(parse_qs(urlsplit(url).query)["x-expires"][0]) - (time.time() + 21601) < 70


def test_a_public_post_joins_the_list_after_processing(tt: TikTokClient,
                                                       sandbox: Sandbox) -> None:
    sandbox.configure(audited=True, processing_seconds=30)
    tokens = tt.login(scopes=SCOPES)
    body = {"post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "new"},
            "source_info": {"source": "PULL_FROM_URL",
                            "video_url": "https://media.example.com/v.mp4"}}
    started = tt.post("video/init/", tokens, body)
    assert started.status_code == 200, started.text
    before = video_list(tt, tokens).json()["data"]["videos"]
    sandbox.advance_clock(31)
    after = video_list(tt, tokens, {"max_count": 1}).json()["data"]["videos"]
    post_ids = tt.status(tokens, started.json()["data"]["publish_id"]).json()["data"][
        "publicaly_available_post_id"]
    assert after[0]["id"] == str(post_ids[0])
    assert all(v["id"] != after[0]["id"] for v in before)


def test_video_endpoints_share_one_budget_per_app(tt: TikTokClient, sandbox: Sandbox) -> None:
    alice, bob = tt.login(scopes=SCOPES), tt.login(user="-000bob", scopes=SCOPES)
    for i in range(600):  # §4b: 600 per endpoint per minute, per app
        assert video_list(tt, alice if i % 2 else bob, {"max_count": 1}).status_code == 200
    refused = video_list(tt, alice)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert video_query(tt, alice, ["1"]).status_code == 200  # the other endpoint counts apart
    sandbox.advance_clock(61)
    assert video_list(tt, alice).status_code == 200
