"""The chunked upload PUT (tiktok-api.md §5.6)."""

from __future__ import annotations

import threading
import time

import pytest

MiB = 1024 * 1024


@pytest.fixture
def bob(tt):
    return tt.login("-000bob")  # private: may post SELF_ONLY from the unaudited app


def test_130_mib_upload_in_two_chunks(tt, sandbox, bob):
    size = 130 * MiB
    init = tt.init_upload(bob, size, 64 * MiB, 2).json()
    assert init["error"]["code"] == "ok"
    url, pid = init["data"]["upload_url"], init["data"]["publish_id"]
    assert url.startswith(f"{sandbox.url}/upload/?upload_id=") and len(url) <= 256
    assert pid.startswith("v_pub_file~")
    first = tt.put_chunk(url, 0, 64 * MiB, size)
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-{64 * MiB - 1}/{size}"
    last = tt.put_chunk(url, 64 * MiB, 66 * MiB, size)  # final chunk takes the remainder
    assert last.status_code == 201
    assert last.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    plan = sandbox.upload(pid)
    assert plan["received_bytes"] == size
    assert [(c["content_range"], c["content_length"], c["status"]) for c in plan["chunks"]] == [
        (f"bytes 0-{64 * MiB - 1}/{size}", 64 * MiB, 206),
        (f"bytes {64 * MiB}-{size - 1}/{size}", 66 * MiB, 201)]
    status = tt.status(bob, pid).json()["data"]
    assert status["uploaded_bytes"] == size


def test_file_over_64_mib_must_be_chunked(tt, bob):
    size = 100 * MiB  # floor(100 / 64) = 1 chunk would be one 100 MiB piece: refused
    refused = tt.init_upload(bob, size, 64 * MiB, 1)
    assert refused.json()["error"]["code"] == "invalid_param"
    accepted = tt.init_upload(bob, size, 50 * MiB, 2)
    assert accepted.json()["error"]["code"] == "ok"


def test_small_file_goes_up_whole(tt, bob):
    size = 3 * MiB
    init = tt.init_upload(bob, size, size, 1).json()["data"]
    assert tt.put_chunk(init["upload_url"], 0, size, size).status_code == 201


def test_out_of_order_and_wrong_length_get_416(tt, sandbox, bob):
    size = 15 * MiB
    url = tt.init_upload(bob, size, 5 * MiB, 3).json()["data"]["upload_url"]
    assert tt.put_chunk(url, 5 * MiB, 5 * MiB, size).status_code == 416  # skips chunk 0
    assert tt.put_chunk(url, 0, 6 * MiB, size).status_code == 416  # not the plan's size
    assert tt.put_chunk(url, 0, 5 * MiB, size).status_code == 206
    assert tt.put_chunk(url, 0, 5 * MiB, size).status_code == 416  # replay
    assert tt.put_chunk(url, 5 * MiB, 5 * MiB, size).status_code == 206
    assert tt.put_chunk(url, 10 * MiB, 5 * MiB, size).status_code == 201
    assert tt.put_chunk(url, 10 * MiB, 5 * MiB, size).status_code == 416  # already complete


def test_bad_headers_get_400(tt, bob):
    size = 10 * MiB
    url = tt.init_upload(bob, size, 5 * MiB, 2).json()["data"]["upload_url"]
    assert tt.put_chunk(url, 0, 5 * MiB, size, content_type="image/png").status_code == 400
    assert tt.put_chunk(url, 0, 5 * MiB, size,
                        content_range=f"bytes 0-{5 * MiB}/{size}").status_code == 400
    assert tt.put_chunk(url, 0, 5 * MiB, size, content_range="0-5").status_code == 400
    assert tt.put_chunk(url, 0, 5 * MiB, size).status_code == 206


def test_expired_upload_url_gets_403(tt, sandbox, bob):
    size = 5 * MiB
    url = tt.init_upload(bob, size, size, 1).json()["data"]["upload_url"]
    sandbox.advance_clock(3601)
    assert tt.put_chunk(url, 0, size, size).status_code == 403


def test_upload_url_ttl_configurable(tt, sandbox, bob):
    sandbox.configure(upload_url_ttl=10)
    url = tt.init_upload(bob, 5 * MiB, 5 * MiB, 1).json()["data"]["upload_url"]
    sandbox.advance_clock(11)
    assert tt.put_chunk(url, 0, 5 * MiB, 5 * MiB).status_code == 403


def test_unknown_upload_gets_404(tt, sandbox, bob):
    url = tt.init_upload(bob, 5 * MiB, 5 * MiB, 1).json()["data"]["upload_url"]
    bad = url.replace("upload_token=", "upload_token=x")
    assert tt.put_chunk(bad, 0, 5 * MiB, 5 * MiB).status_code == 404


def test_count_style_content_range_switch(tt, sandbox, bob):
    sandbox.configure(upload_range="count")
    size = 10 * MiB
    url = tt.init_upload(bob, size, 5 * MiB, 2).json()["data"]["upload_url"]
    resp = tt.put_chunk(url, 0, 5 * MiB, size)
    assert resp.headers["Content-Range"] == f"bytes 0-{5 * MiB}/{size}"


def test_5xx_fault_then_retry_same_chunk(tt, sandbox, bob):
    size = 10 * MiB
    url = tt.init_upload(bob, size, 5 * MiB, 2).json()["data"]["upload_url"]
    sandbox.fault("upload", "status", status=503, times=1)
    assert tt.put_chunk(url, 0, 5 * MiB, size).status_code == 503
    assert tt.put_chunk(url, 0, 5 * MiB, size).status_code == 206


def test_slow_upload_does_not_block_other_calls(tt, sandbox, bob):
    size = 20 * MiB
    url = tt.init_upload(bob, size, 20 * MiB, 1).json()["data"]["upload_url"]
    sandbox.fault("upload", "latency", seconds=1.5, times=1)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault(
        "status", tt.put_chunk(url, 0, size, size).status_code))
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert tt.user_info(bob, "open_id").status_code == 200
    assert time.monotonic() - started < 0.5
    worker.join(10)
    assert result["status"] == 201
