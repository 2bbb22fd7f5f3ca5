"""Structured JSON logs with a redaction filter: no token, code, secret or JWT is ever written."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

# Shapes of secrets that could reach a message by accident: JWTs, TikTok tokens (act./rft./clt.),
# OAuth query parameters, JSON or dict-repr fields, bearer headers. Known secret values are added
# at start-up. Each pattern comes with its replacement. Alternatives inside a repetition never
# match the same text (an escape `\\.` or one non-backslash), so no input backtracks badly.
_PATTERNS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[REDACTED]"),
    (re.compile(r"\b(?:act|rft|clt)\.[A-Za-z0-9._*!~-]+"), "[REDACTED]"),
    (re.compile(r"(?i)\b(code|state|access_token|refresh_token|login_code|client_secret|token"
                r"|code_verifier)=[^&\s\"']+"), r"\1=[REDACTED]"),
    (re.compile(r"""(?i)(["'](?:access_token|refresh_token|login_code|client_secret"""
                r"""|code_verifier)["']\s*:\s*)(["'])(?:\\.|(?!\2)[^\\])*\2"""),
     r"\1\2[REDACTED]\2"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "[REDACTED]"),
]
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Rewrites every record's message and extras with secrets masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if len(s) >= 8)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD:
                setattr(record, name, self._redact_value(value))
        return True

    def _redact_value(self, value: Any) -> Any:
        """An `extra` value with every string in it redacted; other objects become strings."""
        if isinstance(value, str):
            return self.redact(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {self.redact(str(k)): self._redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._redact_value(v) for v in value]
        return self.redact(str(value))  # what the JSON formatter would print, masked


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def configure_logging(secrets: tuple[str, ...], level: str = "INFO") -> None:
    """Route the root logger through the redaction filter to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_broker", False)]:
        root.removeHandler(existing)
    handler._broker = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that log URLs (with query strings) or request bodies stay at WARNING.
    for name in ("urllib3", "authlib", "requests", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
