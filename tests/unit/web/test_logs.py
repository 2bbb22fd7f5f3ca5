"""Logs: nothing secret is written, whatever shape it takes; one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.web.logs import JsonFormatter, RedactingFilter, configure_logging

JWT = ("eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzLTEifQ.eyJzdWIiOiJvcGVuLTEiLCJzaWQiOiJzLTEifQ"
       ".c2lnbmF0dXJlLWJ5dGVzLWhlcmU")
CLIENT_SECRET = "configured-client-secret-42"


@pytest.fixture
def output() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go through the filter and formatter into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter((CLIENT_SECRET, "short")))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.unit.logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(("message", "secret"), [
    (f"issued {JWT} to the SPA", JWT),
    ("grant act.1234567890abcdefghij!rft.ZZ for user", "act.1234567890abcdefghij"),
    ("refresh with rft.abcdEFGH1234.xyz~done", "rft.abcdEFGH1234"),
    ("client clt.abcdef123456 token", "clt.abcdef123456"),
    ("GET /auth/callback?code=CODE-SECRET-1&state=STATE-SECRET-2 200", "CODE-SECRET-1"),
    ("GET /auth/callback?code=CODE-SECRET-1&state=STATE-SECRET-2 200", "STATE-SECRET-2"),
    ("POST body access_token=AT-SECRET-3&x=1", "AT-SECRET-3"),
    ("body refresh_token=RT-SECRET-4", "RT-SECRET-4"),
    ("body client_secret=CS-SECRET-5", "CS-SECRET-5"),
    ("verifier code_verifier=VERIFIER-SECRET-6", "VERIFIER-SECRET-6"),
    ("handoff login_code=LOGIN-CODE-7", "LOGIN-CODE-7"),
    ("Authorization: Bearer opaque-token-value-8", "opaque-token-value-8"),
    ("authorization: bearer opaque-token-value-9", "opaque-token-value-9"),
    (f"secret is {CLIENT_SECRET}!", CLIENT_SECRET),
])
def test_secrets_are_masked_in_messages(output: tuple[logging.Logger, io.StringIO],
                                        message: str, secret: str) -> None:
    logger, stream = output
    logger.info(message)
    assert secret not in stream.getvalue()
    assert "[REDACTED]" in lines(stream)[0]["message"]


def test_query_parameter_names_survive_masking(output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    logger.info("GET /auth/callback?code=abc123&state=def456&scopes=user.info.basic")
    message = lines(stream)[0]["message"]
    assert message == ("GET /auth/callback?code=[REDACTED]&state=[REDACTED]"
                       "&scopes=user.info.basic")


def test_secrets_in_format_arguments_are_masked(
        output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    logger.warning("token %s for %s", JWT, "open-1")
    (entry,) = lines(stream)
    assert JWT not in stream.getvalue()
    assert entry["message"] == "token [REDACTED] for open-1"


def test_short_configured_secrets_are_not_used_as_patterns(
        output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    logger.info("a short message")  # "short" (< 8 chars) would otherwise mangle everything
    assert lines(stream)[0]["message"] == "a short message"


def test_secrets_inside_exception_tracebacks_are_masked(
        output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    try:
        raise RuntimeError(f"TikTok said no to access_token=AT-IN-TRACE with {JWT}")
    except RuntimeError:
        logger.exception("call failed for %s", CLIENT_SECRET)
    (entry,) = lines(stream)
    text = stream.getvalue()
    assert "AT-IN-TRACE" not in text and JWT not in text and CLIENT_SECRET not in text
    assert "RuntimeError" in entry["exception"] and "Traceback" in entry["exception"]


def test_secrets_in_extra_fields_are_masked(output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    logger.info("login completed", extra={"open_id": "open-1", "token": JWT,
                                          "url": "/cb?code=XYZ-CODE-1&state=ok"})
    (entry,) = lines(stream)
    assert entry["open_id"] == "open-1"
    assert entry["token"] == "[REDACTED]"
    assert entry["url"] == "/cb?code=[REDACTED]&state=[REDACTED]"


def test_secrets_nested_in_structured_extra_fields_are_masked(
        output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    logger.info("upstream answered", extra={
        "response": {"access_token": "act.NESTED-TOKEN-1", "open_id": "open-1",
                     "items": [f"Bearer {JWT}", 3]},
        "error": ValueError(f"refresh_token=RT-IN-EXC-2 and {CLIENT_SECRET}"),
    })
    text = stream.getvalue()
    for secret in ("NESTED-TOKEN-1", JWT, "RT-IN-EXC-2", CLIENT_SECRET):
        assert secret not in text
    (entry,) = lines(stream)
    assert entry["response"]["open_id"] == "open-1"
    assert entry["response"]["items"][1] == 3


def test_each_record_is_one_json_object_per_line(
        output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    logger.info("first\nwith a newline")
    logger.error("second \"quoted\"", extra={"count": 2})
    raw = stream.getvalue().splitlines()
    assert len(raw) == 2
    first, second = (json.loads(line) for line in raw)
    assert first["message"] == "first\nwith a newline"
    assert first["level"] == "INFO" and first["logger"] == "tests.unit.logs"
    assert second["level"] == "ERROR" and second["count"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first["time"])


def test_configure_logging_routes_the_root_logger_through_redaction(
        capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before_level, before = root.level, list(root.handlers)
    try:
        configure_logging((CLIENT_SECRET,))
        configure_logging((CLIENT_SECRET,))  # idempotent: still one broker handler
        assert sum(getattr(h, "_broker", False) for h in root.handlers) == 1
        logging.getLogger("broker.anything").warning("secret %s, code=C0DE-VALUE", CLIENT_SECRET)
        logging.getLogger("urllib3").info("GET /?code=should-not-be-logged")
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(before_level)
    err = capsys.readouterr().err
    assert CLIENT_SECRET not in err and "C0DE-VALUE" not in err
    assert "should-not-be-logged" not in err
    assert json.loads(err.strip().splitlines()[-1])["logger"] == "broker.anything"


def test_secrets_in_json_or_dict_shaped_text_are_masked(
        output: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = output
    body = {"access_token": "opaque-AT-1", "refresh_token": "opaque-RT-2", "open_id": "open-1",
            "expires_in": 86400}
    logger.info("token endpoint answered %s", body)           # Python repr: single quotes
    logger.info("raw body %s", json.dumps(body))              # JSON: double quotes
    logger.info("sent %s", '{"client_secret":"opaque-CS-3","code_verifier": "opaque-CV-4"}')
    text = stream.getvalue()
    for secret in ("opaque-AT-1", "opaque-RT-2", "opaque-CS-3", "opaque-CV-4"):
        assert secret not in text
    first, second, _ = lines(stream)
    assert "'open_id': 'open-1'" in first["message"] and "86400" in first["message"]
    assert '"open_id": "open-1"' in second["message"]


def test_an_unterminated_run_of_backslashes_is_redacted_in_linear_time():
    """The quoted-value pattern once backtracked exponentially on this input (a ReDoS)."""
    program = ("from broker.web.logs import RedactingFilter\n"
               "text = '{\"access_token\": \"' + '\\\\' * 4000 + 'x'\n"
               "print(len(RedactingFilter().redact(text)))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 4000
