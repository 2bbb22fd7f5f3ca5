"""A doctor's finding (ok, warning or problem, with what to do about it) and the printed report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

OK, WARN, FAIL = "ok", "warning", "problem"
_MARK = {OK: "[ ok ]", WARN: "[warn]", FAIL: "[FAIL]"}


@dataclass(frozen=True)
class Finding:
    """One check's verdict: `check` names it, `fix` says what to do (empty when all is well)."""

    check: str
    level: str
    summary: str
    fix: str = ""


def ok(check: str, summary: str) -> Finding:
    """A check that passed."""
    return Finding(check, OK, summary)


def warn(check: str, summary: str, fix: str) -> Finding:
    """Works, but likely not what going live needs."""
    return Finding(check, WARN, summary, fix)


def fail(check: str, summary: str, fix: str) -> Finding:
    """A mistake that breaks sign-in, posting, events or security."""
    return Finding(check, FAIL, summary, fix)


def print_report(findings: list[Finding], out: TextIO) -> int:
    """Print every finding with its fix; the exit status: 1 when any is a problem, else 0."""
    for finding in findings:
        print(f"{_MARK[finding.level]} {finding.check}: {finding.summary}", file=out)
        if finding.fix:
            print(f"       -> {finding.fix}", file=out)
    problems = sum(f.level == FAIL for f in findings)
    warnings = sum(f.level == WARN for f in findings)
    print(f"{problems} problem(s), {warnings} warning(s).", file=out)
    return 1 if problems else 0
