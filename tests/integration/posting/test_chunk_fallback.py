"""§5.11: TikTok refusing multi-chunk plans; the broker falls back to one chunk when it can."""

from __future__ import annotations

from tests.support.posting import MIB, bearer, put_file, start_upload


def test_a_refused_chunk_plan_falls_back_to_one_chunk(broker, roomy_sandbox):
    auth = bearer(broker.url)
    roomy_sandbox.configure(refuse_multi_chunk=True)
    try:
        started = start_upload(broker.url, auth, 30 * MIB)
        assert started.status_code == 201, started.text
        inits = roomy_sandbox.requests("video_init")
        assert [r["status"] for r in inits] == [400, 200]
        upload = roomy_sandbox.upload(started.json()["publish_id"])
        assert upload["total_chunk_count"] == 1 and upload["chunk_size"] == 30 * MIB
        put = put_file(broker.url, started.json()["upload_url"], auth, 30 * MIB)
        assert put.status_code == 200 and put.json()["uploaded_bytes"] == 30 * MIB
        too_big = start_upload(broker.url, auth, 70 * MIB)
        assert too_big.status_code == 502
        assert too_big.json()["error"] == "tiktok_chunked_upload_refused"
        assert "64,000,000" in too_big.json()["error_description"]
    finally:
        roomy_sandbox.configure(refuse_multi_chunk=False)
