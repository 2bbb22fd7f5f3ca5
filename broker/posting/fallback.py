"""The chunk-plan fallback of tiktok-api.md §5.11: when TikTok refuses a multi-chunk upload plan
and the video fits one chunk, the init is sent once more with the whole file as one chunk;
otherwise the post fails with a reason that says so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from broker.errors import UpstreamError
from broker.posting.rules import ChunkPlan
from broker.tiktok.content_posting import SINGLE_CHUNK_MAX, Started, refuses_chunk_plan
from broker.tiktok.errors import TikTokApiError

log = logging.getLogger(__name__)


class ChunkedUploadRefused(UpstreamError):
    """TikTok refused the chunked plan, and the video is too large for a single chunk."""

    code = "tiktok_chunked_upload_refused"
    description = ("TikTok refuses chunked uploads right now (\"The chunk size is invalid\"), "
                   f"and this video is larger than the {SINGLE_CHUNK_MAX:,} bytes one chunk "
                   "may hold; post a smaller file, or try again later.")


def init_upload(plan: ChunkPlan, init: Callable[[dict[str, Any]], Started]
                ) -> tuple[ChunkPlan, Started]:
    """Start a FILE_UPLOAD with `plan`, or once more as one chunk (§5.11); the plan TikTok took."""
    try:
        return plan, init(plan.source_info())
    except TikTokApiError as exc:
        if not refuses_chunk_plan(exc, plan.count):
            raise
        if plan.video_size > SINGLE_CHUNK_MAX:
            raise ChunkedUploadRefused(tiktok_log_id=exc.tiktok_log_id) from exc
        log.info("TikTok refused a %d-chunk plan; sending the video as one chunk", plan.count)
    single = ChunkPlan(plan.video_size, plan.video_size, 1)
    return single, init(single.source_info())
