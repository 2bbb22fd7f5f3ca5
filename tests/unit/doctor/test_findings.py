"""The doctor's pure parts: the report and exit status, the clock and sandbox-key verdicts, and
reading the parameter TikTok's error page names."""

from __future__ import annotations

import io

import pytest

from broker.config.settings import Settings
from broker.doctor.findings import FAIL, OK, WARN, fail, ok, print_report, warn
from broker.doctor.tiktok_side import CLOCK_TOLERANCE, clock, sandbox_audit
from broker.tiktok.app_checks import bad_parameter
from tests.support.env import valid_env


def test_the_report_prints_fixes_and_fails_only_on_problems() -> None:
    out = io.StringIO()
    assert print_report([ok("a", "fine"), warn("b", "hmm", "do b")], out) == 0
    assert "[ ok ] a: fine" in out.getvalue() and "-> do b" in out.getvalue()
    assert "0 problem(s), 1 warning(s)." in out.getvalue()
    assert print_report([fail("c", "broken", "do c")], io.StringIO()) == 1


@pytest.mark.parametrize(("skew", "level"), [(0, OK), (CLOCK_TOLERANCE, OK),
                                             (-CLOCK_TOLERANCE - 1, FAIL), (600, FAIL)])
def test_clock(skew: float, level: str) -> None:
    assert clock(1_700_000_000.0, 1_700_000_000.0 + skew).level == level


def test_no_date_header_is_a_warning() -> None:
    assert clock(None, 1_700_000_000.0).level == WARN


@pytest.mark.parametrize(("key", "audited", "level"), [
    ("sbawx0000000000000", "true", FAIL), ("sbawx0000000000000", "false", OK),
    ("awx00000000000000", "true", OK)])
def test_sandbox_key_and_audit(key: str, audited: str, level: str) -> None:
    settings = Settings.from_env(valid_env(TIKTOK_CLIENT_KEY=key, TIKTOK_AUDITED=audited))
    assert sandbox_audit(settings).level == level


@pytest.mark.parametrize(("page", "param"), [
    ("<p>Something went wrong</p><p>We couldn't log in with TikTok. This may be due to specific "
     "app settings. If you're a developer, correct the following and try again: "
     "<b>redirect_uri</b></p>", "redirect_uri"),
    ("correct the following: `code_challenge`", "code_challenge"),
    ("Correct the following:\n  scope", "scope"),
    ("<h1>Welcome</h1>", None),
])
def test_the_parameter_named_on_tiktoks_error_page(page: str, param: str | None) -> None:
    assert bad_parameter(page) == param
