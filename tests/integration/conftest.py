"""Fixtures shared by the integration tests (real gunicorn, Redis and sandbox over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def roomy_sandbox(sandbox: Any) -> Iterator[Any]:
    """The sandbox with the daily caps of §5.9 lifted (tests post a lot), restored afterwards."""
    before = sandbox.config()
    sandbox.configure(posts_per_day=100_000, pending_share_cap=100_000, audited=False)
    yield sandbox
    sandbox.configure(**{k: before[k] for k in ("posts_per_day", "pending_share_cap",
                                                "audited", "webhook_url", "upload_range")})
