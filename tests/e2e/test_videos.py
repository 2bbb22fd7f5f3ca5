"""The "My videos" page in a real browser: TikTok's Display API through the broker, the
video.list permission asked for when the login lacks it, covers, counts and links to TikTok."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.browser import consent, login
from tests.support.spa import Stack


def test_my_videos_asks_for_the_permission_then_shows_covers_counts_and_links(
        page: Any, stack: Stack) -> None:
    login(page, stack.spa.url, user="-000alice", path="/videos")

    # The demo's login did not ask for video.list: the page says so and asks TikTok for it.
    expect(page.get_by_test_id("videos-scope")).to_contain_text("did not allow")
    assert page.get_by_test_id("video-card").count() == 0
    page.get_by_test_id("allow-videos").click()
    page.wait_for_url("**/v2/auth/authorize/**")
    assert "video.list" in page.url
    consent(page, user="-000alice")
    page.wait_for_url(stack.spa.url + "/videos**")

    cards = page.get_by_test_id("video-card")
    expect(cards).to_have_count(12)
    expect(page.get_by_test_id("videos-scope")).to_have_count(0)
    first = cards.first
    link = first.get_by_test_id("video-link")
    assert link.get_attribute("href").startswith("https://www.tiktok.com/@")
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    expect(first.get_by_test_id("video-counts")).to_contain_text("▶")
    expect(first).to_contain_text("Sandbox video 1")
    cover = first.get_by_test_id("video-cover")
    assert cover.get_attribute("src").startswith(  # TikTok's signed, expiring cover link
        f"{stack.sandbox.url}/covers/7300000000000000000?x-expires=")
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid=video-cover]')]
        .slice(0, 4).every(img => img.complete && img.naturalWidth > 0)""")

    # Newest first, a page at a time, to the end.
    page.get_by_test_id("load-more").click()
    expect(cards).to_have_count(24)
    page.get_by_test_id("load-more").click()
    expect(page.get_by_test_id("load-more")).to_have_count(0)
    assert cards.count() >= 27
    calls = page.log.broker_calls("/api/videos")
    assert [c["status"] for c in calls][-3:] == [200, 200, 200]
    assert "cursor=" in calls[-1]["path"] and "cursor=" not in calls[-3]["path"]
