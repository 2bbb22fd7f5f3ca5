"""Each benchmark of `python -m bench` in a tiny mode (one round, about a second, few requests),
to prove the scripts still work against the broker as it is. Not a performance test: no
numbers are checked, only that every request succeeded and the tables render."""

from __future__ import annotations

import os
import shutil

import pytest

from bench import breakdown, instructions, login, me, memory, refresh, storm
from bench.common import Load

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None,
    reason="wrk (the HTTP load generator the benchmarks drive) is not installed: "
           "apt-get install -y wrk")

TINY = Load(threads=1, connections=4, seconds=1)


@pytest.mark.parametrize("kind", ["cached", "uncached"])
def test_me_benchmark_runs(kind: str) -> None:
    result = me.run(kind, load=TINY, rounds=1, warmup=0, workers=1)
    assert result["summary"]["broker"]["rps"] > 0
    assert result["summary"]["baseline"]["rps"] > 0
    assert "broker / baseline" in me.markdown(result)
    if kind == "cached":  # the tail at a pace all three carry
        assert set(result["paced"]["summary"]) == {"baseline", "floor", "broker"}
        assert "At a fixed pace" in me.markdown(result)


def test_login_benchmark_runs() -> None:
    result = login.run(load=Load(threads=2, connections=4, seconds=1), rounds=1, logins=6,
                       workers=1)
    assert all(r["ok"] == 6 for rs in result["runs"].values() for r in rs)
    assert "logins/s" in login.markdown(result)


def test_refresh_benchmark_runs() -> None:
    result = refresh.run(load=Load(threads=2, connections=4, seconds=1), rounds=1, warmup=0,
                         workers=1)
    # every refresh answered 200 with a new cookie (medians() raises otherwise), on both sides
    assert all(r["ok"] > 0 for rs in result["runs"].values() for r in rs)
    assert "broker / floor" in refresh.markdown(result)


def test_refresh_storm_benchmark_runs() -> None:
    result = storm.run(rounds=1, concurrency=8, workers=1)
    assert result["problems"] == []
    assert result["summary"]["expired"]["refresh_grants_per_round"] == [1]
    assert "refresh grants" in storm.markdown(result)


def test_memory_benchmark_runs() -> None:
    result = memory.run(sizes=[100], sample_users=1)
    assert result["levels"][0]["per_user"] > 0
    assert "1,000,000 users" in memory.markdown(result)


def test_breakdown_runs() -> None:
    pieces = breakdown.run(os.environ["TEST_REDIS_URL"], calls=5)
    assert len(pieces) == 5 and all(micros > 0 for micros in pieces.values())


@pytest.mark.parametrize("app", instructions.APPS)
def test_instruction_count_harness_answers_200(app: str) -> None:
    # What runs inside valgrind, without valgrind (that takes minutes): each app answers
    # /api/me with a 200 through its WSGI callable, or the harness raises.
    instructions.inner(app, 3, os.environ["TEST_REDIS_URL"])
