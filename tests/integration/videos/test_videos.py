"""The Display routes over real HTTP: gunicorn brokers, real Redis, the sandbox as TikTok."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support.flows import login

LIST_SCOPES = ["user.info.basic", "video.list"]


def videos_bearer(broker_url: str, user: str = "-000alice") -> dict[str, str]:
    """A login that asked for and granted video.list (as an extra scope of /login)."""
    return login(broker_url, user=user, scopes=LIST_SCOPES, scope="video.list").bearer()


def get(url, headers, **params):
    return requests.get(f"{url}/api/videos", headers=headers, params=params, timeout=30)


def query(url, headers, body):
    return requests.post(f"{url}/api/videos/query", headers=headers, json=body, timeout=30)


def cover_deadline(video):
    return int(parse_qs(urlsplit(video["cover_image_url"]).query)["x-expires"][0])


@pytest.fixture
def cover_ttl(sandbox):
    """Set the sandbox's cover URL lifetime for one test; restored afterwards."""
    before = sandbox.config()["cover_url_ttl"]
    yield lambda seconds: sandbox.configure(cover_url_ttl=seconds)
    sandbox.configure(cover_url_ttl=before)


def test_pages_to_the_end_newest_first(broker, sandbox):
    headers = videos_bearer(broker.url)
    first = get(broker.url, headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["videos"]) == 20 and page["has_more"] is True
    assert set(page["videos"][0]) >= {"id", "cover_image_url", "share_url", "view_count",
                                      "like_count"}
    second = get(broker.url, headers, cursor=page["cursor"]).json()
    assert 7 <= len(second["videos"]) <= 20 and second["has_more"] is False
    videos = page["videos"] + second["videos"]
    # The sandbox's 27 public videos of Alice, and any public post earlier tests made for her.
    titled = get(broker.url, headers, fields="id,title", max_count=20).json()["videos"] + \
        get(broker.url, headers, fields="id,title", max_count=20,
            cursor=page["cursor"]).json()["videos"]
    posted = [v for v in titled if v.get("title") == "Posted via API"]
    assert len({v["id"] for v in videos}) == len(videos) == 27 + len(posted)
    times = [v["create_time"] for v in videos]
    assert times == sorted(times, reverse=True)
    calls = sandbox.requests(endpoint="video_list")
    assert len(calls) == 4 and first.headers["Cache-Control"] == "private, no-store"


def test_field_selection_and_query_by_id(broker, sandbox):
    headers = videos_bearer(broker.url)
    page = get(broker.url, headers, fields="id,title", max_count=3).json()
    assert [set(v) for v in page["videos"]] == [{"id", "title"}] * 3
    ids = [v["id"] for v in page["videos"]]
    found = query(broker.url, headers, {"video_ids": [*ids[:2], "1234"],
                                        "fields": ["id", "view_count"]})
    assert found.status_code == 200, found.text
    assert sorted(v["id"] for v in found.json()["videos"]) == sorted(ids[:2])
    assert all(set(v) == {"id", "view_count"} for v in found.json()["videos"])
    bobs = query(broker.url, videos_bearer(broker.url, "-000bob"), {"video_ids": ids})
    assert bobs.json() == {"videos": []}  # another account's videos are not Bob's


@pytest.mark.parametrize(("params", "code"), [
    ({"fields": "id,password"}, "invalid_fields"), ({"max_count": "21"}, "invalid_max_count"),
    ({"max_count": "0"}, "invalid_max_count"), ({"cursor": "-1"}, "invalid_cursor"),
    ({"cursor": "soon"}, "invalid_cursor"), ({"fields": "id," * 200}, "invalid_fields"),
])
def test_bad_list_requests_are_refused_before_tiktok(broker, sandbox, params, code):
    resp = get(broker.url, videos_bearer(broker.url), **params)
    assert (resp.status_code, resp.json()["error"]) == (400, code)
    assert sandbox.requests(endpoint="video_list") == []


@pytest.mark.parametrize(("body", "code"), [
    ({"video_ids": []}, "invalid_video_ids"), ({"video_ids": [str(i) for i in range(21)]},
                                               "invalid_video_ids"),
    ({"video_ids": [7300000000000000000]}, "invalid_video_ids"),
    ({"video_ids": ["../../v2/user/info"]}, "invalid_video_ids"),
    ({"video_ids": ["1"], "fields": "id,secret"}, "invalid_fields"),
    ({"video_ids": ["1"], "fields": 3}, "invalid_fields"),
    ({"video_ids": ["1"], "fields": ["id"] * 30}, "invalid_fields"),
])
def test_bad_queries_are_refused_before_tiktok(broker, sandbox, body, code):
    resp = query(broker.url, videos_bearer(broker.url), body)
    assert (resp.status_code, resp.json()["error"]) == (400, code)
    assert sandbox.requests(endpoint="video_query") == []


def test_without_the_video_list_scope_nothing_reaches_tiktok(broker, sandbox):
    headers = login(broker.url, user="-000alice").bearer()  # the default scopes only
    for resp in (get(broker.url, headers), query(broker.url, headers, {"video_ids": ["1"]}),
                 get(broker.url, headers, fields="id")):
        assert resp.status_code == 403 and resp.json()["error"] == "scope_not_granted"
    assert sandbox.requests(endpoint="video_list") == sandbox.requests(endpoint="video_query") == []
    assert get(broker.url, {}).status_code == 401


def test_cached_briefly_and_never_past_a_cover_url(broker, sandbox, cover_ttl):
    headers = videos_bearer(broker.url)
    first = get(broker.url, headers, max_count=4).json()
    time.sleep(3)
    assert get(broker.url, headers, max_count=4).json() == first  # a 6 h cover: cached
    assert len(sandbox.requests(endpoint="video_list")) == 1

    cover_ttl(63)  # the broker drops an answer 60 s before its first cover dies: 3 s here
    fresh = get(broker.url, headers, max_count=5).json()
    again = get(broker.url, headers, max_count=5).json()
    assert again == fresh and len(sandbox.requests(endpoint="video_list")) == 2
    assert cover_deadline(again["videos"][0]) > time.time()
    time.sleep(3.5)
    later = get(broker.url, headers, max_count=5).json()
    assert len(sandbox.requests(endpoint="video_list")) == 3  # asked TikTok again
    assert cover_deadline(later["videos"][0]) > cover_deadline(fresh["videos"][0])
    assert requests.get(later["videos"][0]["cover_image_url"], timeout=10).status_code == 200


def test_the_apps_budget_is_shared_by_every_broker(broker_factory, redis_client, sandbox):
    one, two = broker_factory(), broker_factory(fresh=True)
    headers = videos_bearer(one.url)
    now = time.time()  # 598 calls of this minute already made by other replicas
    redis_client.zadd("tb:tiktok-budget:video_list", {f"{now}:{i}": now for i in range(598)})
    redis_client.expire("tb:tiktok-budget:video_list", 60)
    assert get(one.url, headers, max_count=1).status_code == 200
    assert get(two.url, headers, max_count=2).status_code == 200
    for url, size in ((one.url, 3), (two.url, 4)):
        refused = get(url, headers, max_count=size)
        assert refused.status_code == 429 and refused.json()["error"] == "tiktok_rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(sandbox.requests(endpoint="video_list")) == 2  # refused without asking TikTok
    assert query(two.url, headers, {"video_ids": ["1"]}).status_code == 200  # its own budget
    assert 0 < redis_client.ttl("tb:tiktok-budget:video_list") <= 60


def test_tiktoks_own_refusals_and_faults(broker, sandbox):
    headers = videos_bearer(broker.url)
    sandbox.fault("video_list", "rate_limit", times=1)
    limited = get(broker.url, headers)
    assert limited.status_code == 429 and limited.json()["error"] == "tiktok_rate_limited"
    assert "Retry-After" in limited.headers
    sandbox.fault("video_list", "malformed", times=1)
    assert get(broker.url, headers, max_count=2).status_code == 502
    sandbox.fault("video_query", "status", status=503, times=1)
    assert query(broker.url, headers, {"video_ids": ["1"]}).status_code == 503


def test_signing_out_with_revoke_drops_the_cached_videos(broker, sandbox, redis_client):
    alice = login(broker.url, user="-000alice", scopes=LIST_SCOPES, scope="video.list")
    assert get(broker.url, alice.bearer(), max_count=2).status_code == 200
    assert redis_client.hlen("tb:videos:-000alice") == 1
    assert 0 < redis_client.ttl("tb:videos:-000alice") <= 60
    out = requests.post(f"{broker.url}/logout", params={"revoke": "true"},
                        headers=alice.bearer(), timeout=10)
    assert out.status_code == 204
    assert not redis_client.exists("tb:videos:-000alice")
    assert get(broker.url, alice.bearer(), max_count=2).status_code == 401  # not from the cache
    assert len(sandbox.requests(endpoint="video_list")) == 1
