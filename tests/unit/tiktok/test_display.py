"""The Display API's wire in broker/tiktok/display.py: requests sent, answers read, cover expiry."""

from __future__ import annotations

from typing import Any

import pytest

from broker.errors import UpstreamError
from broker.tiktok.display import COVER_LIFE, VIDEO_LIST, VIDEO_QUERY, Display, cover_expiry


class FakeClient:
    """Stands in for TikTokClient.api: records each call, answers the `data` it was given."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data, self.calls = data, []

    def api(self, method: str, path: str, token: str, **kw: Any) -> dict[str, Any]:
        self.calls.append((method, path, token, kw))
        return self.data


def display(data: dict[str, Any]) -> tuple[Display, FakeClient]:
    client = FakeClient(data)
    return Display(client), client  # type: ignore[arg-type]


def test_list_sends_fields_in_the_query_and_page_size_and_cursor_in_the_body() -> None:
    api, client = display({"videos": [{"id": 7300000000000000001}], "cursor": 17, "has_more": True})
    page = api.list_videos("tok", ("id", "title"), 1_700_000_000_000, 5)
    assert client.calls == [("POST", VIDEO_LIST, "tok", {
        "params": {"fields": "id,title"}, "json": {"max_count": 5, "cursor": 1_700_000_000_000}})]
    assert page.videos == [{"id": "7300000000000000001"}]  # an int64 id kept exact, as a string
    assert (page.cursor, page.has_more) == (17, True)
    api.list_videos("tok", ("id",), None, 20)
    assert client.calls[-1][3]["json"] == {"max_count": 20}  # no cursor: the newest page


@pytest.mark.parametrize("data", [
    {"videos": "nope"}, {"videos": [1, 2]}, {"videos": [], "cursor": "17"},
    {"videos": [], "cursor": True},
])
def test_a_malformed_answer_is_an_upstream_error(data: dict[str, Any]) -> None:
    with pytest.raises(UpstreamError):
        display(data)[0].list_videos("tok", ("id",), None, 20)


def test_has_more_is_true_only_when_tiktok_says_true() -> None:
    assert display({"videos": [], "has_more": "yes"})[0].list_videos(
        "tok", ("id",), None, 1).has_more is False


def test_query_sends_the_ids_as_filters() -> None:
    api, client = display({"videos": [{"id": "1"}]})
    assert api.query_videos("tok", ("id",), ["1", "2"]) == [{"id": "1"}]
    assert client.calls == [("POST", VIDEO_QUERY, "tok", {
        "params": {"fields": "id"}, "json": {"filters": {"video_ids": ["1", "2"]}}})]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://p16.example/c.jpeg?x-expires=1700003600&x-signature=abc", 1_700_003_600),
    ("https://p16.example/c.jpeg?x-signature=abc", 1_700_000_000 + COVER_LIFE),
    ("https://p16.example/c.jpeg?x-expires=soon", 1_700_000_000 + COVER_LIFE),
    ("not a url", 1_700_000_000 + COVER_LIFE),
])
def test_cover_expiry_is_read_from_the_url_else_six_hours(url: str, expected: float) -> None:
    assert cover_expiry(url, 1_700_000_000.0) == expected
