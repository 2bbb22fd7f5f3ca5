"""The access log cannot be forged through a request: control characters are escaped."""

from __future__ import annotations

import time
from pathlib import Path

import requests


def test_cr_lf_and_terminal_escapes_in_the_path_are_escaped(broker):
    marker = f"forged-{time.time_ns()}"
    answer = requests.get(f"{broker.url}/nowhere%0D%0A{marker}%20200%1B[31m%07", timeout=5)
    assert answer.status_code == 404
    for _ in range(50):  # the access line is written after the response
        text = Path(broker.log_path).read_text(errors="replace")
        if marker in text:
            break
        time.sleep(0.1)
    lines = [line for line in text.splitlines() if marker in line]
    assert lines, "the request was not logged"
    assert all(not line.startswith(marker) for line in lines)  # no line of its own
    assert all("/nowhere\\x0d\\x0a" + marker in line for line in lines)
    assert "\x1b" not in text and "\x07" not in text
