"""`source_url`: the broker fetches the video from the app's storage (a local https server with
a test CA) and the worker streams it to TikTok; every SSRF refusal is a 400 before TikTok hears
of anything."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import psutil
import pytest
import requests

from tests.support.media_server import MediaServer
from tests.support.posting import MIB, bearer, wait_for

INFO = {"privacy_level": "SELF_ONLY", "title": "from storage"}


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    server = MediaServer()
    yield server
    server.stop()


def _stack(posting_stack, media: MediaServer, workers: int = 1):
    return posting_stack(workers, MEDIA_SOURCE_HOSTS="localhost",
                         MEDIA_SOURCE_CA_FILE=str(media.ca_path), MEDIA_SOURCE_TIMEOUT="5")


def _video(url: str, headers: dict[str, str], source: str, mode: str = "direct"
           ) -> requests.Response:
    return requests.post(f"{url}/api/videos", headers=headers, timeout=30,
                         json={"mode": mode, "post_info": INFO, "source_url": source})


def _final(url: str, headers: dict[str, str], post_id: str, timeout: float = 60) -> dict:
    def check() -> dict | None:
        record = requests.get(f"{url}/api/posts/{post_id}", headers=headers, timeout=10).json()
        return record if record["status"] in ("published", "inbox", "failed") else None
    return wait_for(check, timeout=timeout, every=0.3)


def test_a_source_url_is_uploaded_to_tiktok_in_chunks(posting_stack, sandbox, media,
                                                      redis_client):
    broker, _ = _stack(posting_stack, media)
    auth = bearer(broker.url)
    presigned = "X-Amz-Signature=0f9e8d7c6b5a4938271605f4e3d2c1b0a9988776"
    answer = _video(broker.url, auth, media.url(f"/video?size={12 * MIB}&{presigned}"))
    assert answer.status_code == 202, answer.text
    done = _final(broker.url, auth, answer.json()["post_id"])
    assert done["status"] == "published", done
    upload = sandbox.upload(done["publish_id"])
    assert sum(c["bytes"] for c in upload["chunks"] if c["accepted"]) == 12 * MIB
    for name in redis_client.scan_iter("tb:*"):  # the presigned URL is sealed; all keys expire
        assert redis_client.ttl(name) > 0, name
        kind = redis_client.type(name)
        value = redis_client.get(name) if kind == "string" else str(
            redis_client.hgetall(name) if kind == "hash" else "")
        assert "X-Amz-Signature" not in (value or ""), name


@pytest.mark.parametrize("source, reason", [
    ("https://127.0.0.1:{port}/video", "loopback"),
    ("https://10.1.2.3/video", "private"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://100.64.0.1/video", "carrier-grade NAT"),
    ("https://[::1]:{port}/video", "loopback"),
    ("http://localhost:{port}/video", "only https"),
    ("{redirect}https://127.0.0.1:{port}/video", "loopback"),
    ("{redirect}https://169.254.169.254/", "metadata"),
    ("{redirect}http://localhost:{port}/video", "only https"),
    ("https://localhost:{port}/page?type=text/html", "content type"),
    ("https://localhost:{port}/declare?size=5000000000", "4 GB"),
])
def test_each_unsafe_source_is_refused_before_tiktok(posting_stack, sandbox, media, source,
                                                     reason):
    broker, _ = _stack(posting_stack, media)
    auth = bearer(broker.url)
    redirect = media.url("/redirect?to=")
    url = source.format(port=media.port, redirect="")
    if source.startswith("{redirect}"):
        url = redirect + quote(url, safe="")
    answer = _video(broker.url, auth, url)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "media_source_refused"
    assert reason in answer.json()["error_description"]
    assert not sandbox.requests("video_init") and not sandbox.requests("inbox_video_init")
    posts = requests.get(f"{broker.url}/api/posts", headers=auth, timeout=10).json()["posts"]
    assert posts == []


@pytest.mark.slow
def test_a_130_mib_source_goes_up_with_flat_memory(posting_stack, sandbox, media):
    broker, workers = _stack(posting_stack, media)
    auth = bearer(broker.url)
    process = psutil.Process(workers[0].pid)
    baseline, peak, stop = process.memory_info().rss, [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answer = _video(broker.url, auth, media.url(f"/video?size={130 * MIB}"))
        done = _final(broker.url, auth, answer.json()["post_id"], timeout=240)
    finally:
        stop.set()
        sampler.join()
    assert done["status"] == "published", done
    upload = sandbox.upload(done["publish_id"])
    assert sum(c["bytes"] for c in upload["chunks"] if c["accepted"]) == 130 * MIB
    # One chunk (10 MiB; the last up to 20 MiB) in memory, not the file: far below 130 MiB.
    assert peak[0] - baseline < 48 * MIB, (baseline, peak[0])
