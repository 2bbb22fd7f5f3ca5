"""broker/videos: field selection by scope, the app-wide budget window, and the cache deadline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from broker.errors import BadRequest, Forbidden
from broker.tiktok.display import VIDEO_FIELDS
from broker.videos.budget import AppBudget, TikTokBudgetSpent
from broker.videos.library import COVER_MARGIN, VideoLibrary, fields_for

T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> float:
        return self.t


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
    connection = redis.Redis.from_url(url, decode_responses=True)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis")
    names = ["tb:tiktok-budget:unit-test", "tb:tiktok-budget:video_list", "tb:videos:-000unit"]
    connection.delete(*names)
    yield connection
    connection.delete(*names)


def test_fields_need_the_scope_and_must_be_known() -> None:
    with pytest.raises(Forbidden) as refused:
        fields_for(frozenset({"user.info.basic"}), "id")
    assert refused.value.code == "scope_not_granted"
    scopes = frozenset({"video.list"})
    assert fields_for(scopes, None) == fields_for(scopes, " , ") == VIDEO_FIELDS
    assert fields_for(scopes, "title, id,title") == ("title", "id")
    assert fields_for(scopes, ["id", "view_count"]) == ("id", "view_count")
    with pytest.raises(BadRequest) as unknown:
        fields_for(scopes, "id,access_token")
    assert unknown.value.code == "invalid_fields" and "access_token" in unknown.value.description


def test_the_budget_slides_and_names_the_wait(client: redis.Redis) -> None:
    clock = Clock()
    budget = AppBudget(client, clock, limit=3, window=60)  # type: ignore[arg-type]
    for step in range(3):
        clock.t = T0 + step * 10
        budget.spend("unit-test")
    clock.t = T0 + 25
    with pytest.raises(TikTokBudgetSpent) as spent:
        budget.spend("unit-test")
    assert spent.value.headers["Retry-After"] == "35"  # the oldest call leaves at T0 + 60
    assert client.zcard("tb:tiktok-budget:unit-test") == 3  # a refusal is not counted
    clock.t = T0 + 60.5
    budget.spend("unit-test")  # the first call slid out of the window
    assert 0 < client.ttl("tb:tiktok-budget:unit-test") <= 60


class Grants:
    """GrantKeeper.call with a fixed token."""

    def call(self, open_id: str, fn: Any) -> Any:
        return fn("tok")


class Display:
    def __init__(self, expires: int | None) -> None:
        self.expires, self.calls = expires, 0

    def list_videos(self, token: str, fields: Any, cursor: Any, max_count: int) -> Any:
        self.calls += 1
        url = "https://cdn.example/c.jpeg" + (f"?x-expires={self.expires}" if self.expires else "")
        return type("Page", (), {"videos": [{"id": "1", "cover_image_url": url}],
                                 "cursor": None, "has_more": False})()


def library(client: redis.Redis, display: Display, clock: Clock) -> VideoLibrary:
    budget = AppBudget(client, clock, limit=600)  # type: ignore[arg-type]
    return VideoLibrary(client, Grants(), display, budget, clock)  # type: ignore[arg-type]


def test_an_answer_is_reused_until_its_ttl(client: redis.Redis) -> None:
    clock, display = Clock(), Display(expires=None)  # no x-expires: six hours
    videos = library(client, display, clock)
    first = videos.page("-000unit", ("id",), None, 1)
    clock.t = T0 + 59
    assert videos.page("-000unit", ("id",), None, 1) == first and display.calls == 1
    videos.page("-000unit", ("id", "title"), None, 1)  # another request: its own entry
    assert display.calls == 2
    clock.t = T0 + 61
    videos.page("-000unit", ("id",), None, 1)
    assert display.calls == 3


def test_an_answer_is_dropped_before_its_cover_dies(client: redis.Redis) -> None:
    clock, display = Clock(), Display(expires=int(T0) + COVER_MARGIN + 10)
    videos = library(client, display, clock)
    videos.page("-000unit", ("id",), None, 1)
    clock.t = T0 + 9
    videos.page("-000unit", ("id",), None, 1)
    assert display.calls == 1
    clock.t = T0 + 10.5
    videos.page("-000unit", ("id",), None, 1)
    assert display.calls == 2


def test_an_answer_whose_cover_is_about_to_die_is_not_cached(client: redis.Redis) -> None:
    clock, display = Clock(), Display(expires=int(T0) + 30)
    videos = library(client, display, clock)
    videos.page("-000unit", ("id",), None, 1)
    videos.page("-000unit", ("id",), None, 1)
    assert display.calls == 2 and not client.exists("tb:videos:-000unit")
