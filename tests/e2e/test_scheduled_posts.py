"""The "Scheduled posts" page in a real browser: a post scheduled a few seconds ahead with a
`video_url` on the sandbox's verified media domain, run by a real `python -m broker worker` on
the e2e stack's Redis, seen going from `scheduled` to `published` in the page's own list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import login
from tests.support.posting import MEDIA
from tests.support.spa import Stack
from tests.support.worker import WorkerProcess, start_worker

RUN_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def worker(stack: Stack) -> Iterator[WorkerProcess]:
    """A worker with the e2e broker's own environment (same Redis, sandbox and keys)."""
    env = {k: v for k, v in stack.broker.env.items()
           if k not in ("BROKER_BIND", "WEB_CONCURRENCY")}
    started = start_worker(env)
    yield started
    started.stop()


def test_a_post_scheduled_in_the_page_is_published_by_the_worker(
        page: Any, stack: Stack, worker: WorkerProcess, tiktok_sandbox: Any) -> None:
    login(page, stack.spa.url, user="-000bob", path="/scheduled")
    expect(page.get_by_test_id("nav-scheduled")).to_be_visible()
    expect(page.get_by_test_id("no-posts")).to_be_visible()

    schedule = page.get_by_test_id("schedule")
    expect(schedule).to_be_disabled()
    page.get_by_test_id("media-url").fill(MEDIA + "e2e-scheduled.mp4")
    page.get_by_test_id("title").fill("scheduled from the SPA")
    # Visibility from the creator's options: an unaudited app may use only "Only me".
    privacy = page.get_by_test_id("privacy")
    expect(privacy.locator("option")).to_have_count(2)
    assert privacy.locator("option").all_inner_texts() == [
        "Choose who can see this video", "Only me"]
    expect(schedule).to_be_disabled()
    privacy.select_option("SELF_ONLY")

    # Eight seconds from now, in the browser's own local time (datetime-local, seconds shown).
    at, at_epoch = page.evaluate("""() => {
        const d = new Date(Date.now() + 8000), p = (n) => String(n).padStart(2, '0');
        d.setMilliseconds(0);
        const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
        const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
        return [`${day}T${time}`, d.getTime() / 1000];
    }""")
    page.get_by_test_id("publish-at").fill(at)
    expect(schedule).to_be_enabled()
    schedule.click()

    row = page.get_by_test_id("post-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "scheduled")
    expect(row.get_by_test_id("cancel-post")).to_be_visible()
    sent = [c for c in page.log.broker_calls("/api/posts") if c["method"] == "POST"]
    assert [c["status"] for c in sent] == [202]
    assert not tiktok_sandbox.requests("video_init")  # not before its time

    # The list refreshes by itself until the worker has posted it and TikTok finished.
    expect(row).to_have_attribute("data-status", "published", timeout=RUN_TIMEOUT_MS)
    expect(row.get_by_test_id("post-status")).to_contain_text("Published")
    expect(row.get_by_test_id("cancel-post")).to_have_count(0)
    inits = tiktok_sandbox.requests("video_init")
    assert [i["status"] for i in inits] == [200]
    assert inits[0]["time"] >= at_epoch - 1  # at its time, not when it was scheduled
    listed = [c for c in page.log.broker_calls("/api/posts") if c["method"] == "GET"]
    assert len(listed) >= 3  # asked again while it waited
