"""The variables of "apps with their own users": TikTok token issuing to the app's backend and
the per-service-key rate limit (read with the rest by broker.config.environment)."""

from __future__ import annotations

from typing import Any

import limits

from broker.config.parsing import VariableReader

VARIABLES = frozenset({"SERVICE_TOKEN_ISSUE", "RATE_LIMIT_SERVICE"})


def read(reader: VariableReader, dev: bool) -> dict[str, Any]:
    """The Settings fields these variables set; problems go to `reader.problems`."""
    return {
        "service_token_issue": reader.flag("SERVICE_TOKEN_ISSUE"),
        "rate_limit_service": reader.parse("RATE_LIMIT_SERVICE", _rate_limit,
                                           "a rate limit such as 1200/minute"),
    }


def _rate_limit(raw: str) -> str:
    items = limits.parse_many(raw)  # ValueError when it does not parse
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(raw)
    return raw
