"""The chunk planner (§5.6 floor rule) and the reading of TikTok's Content-Range."""

from __future__ import annotations

import itertools

import pytest

from broker.errors import BrokerError
from broker.posting.rules import MIB, ChunkPlan, plan_chunks
from broker.posting.uploads import _held


def chunks(plan: ChunkPlan) -> list[tuple[int, int]]:
    return [plan.bounds(i) for i in range(plan.count)]


def test_the_docs_worked_example():
    plan = plan_chunks(50_000_123, 10_000_000)
    assert plan.count == 5
    assert chunks(plan)[-1] == (40_000_000, 10_000_123)  # bytes 40,000,000-50,000,122


@pytest.mark.parametrize("size", [1, 1 * MIB, 5 * MIB - 1])
def test_under_5_mib_goes_whole(size):
    assert plan_chunks(size, 10 * MIB) == ChunkPlan(size, size, 1)


def test_between_5_mib_and_the_chunk_size_is_one_chunk():
    assert plan_chunks(7 * MIB, 10 * MIB) == ChunkPlan(7 * MIB, 7 * MIB, 1)


def test_floor_rule_the_last_chunk_takes_the_remainder():
    plan = plan_chunks(23 * MIB, 10 * MIB)
    assert chunks(plan) == [(0, 10 * MIB), (10 * MIB, 13 * MIB)]


def test_over_64_mib_is_always_chunked():
    plan = plan_chunks(100 * MIB, 64 * MIB)  # floor would give one 100 MiB piece
    assert plan.count == 2 and plan.chunk_size <= 64 * MIB
    assert sum(length for _, length in chunks(plan)) == 100 * MIB


@pytest.mark.parametrize("chunk", [5 * MIB, 10 * MIB, 64 * MIB])
@pytest.mark.parametrize("size", [64 * MIB + 1, 130 * MIB, 1024 * MIB, 4 * 1024 * MIB])
def test_plans_respect_every_limit(size, chunk):
    plan = plan_chunks(size, chunk)
    spans = chunks(plan)
    assert 2 <= plan.count <= 1000
    assert all(5 * MIB <= length <= 64 * MIB for _, length in spans[:-1])
    assert 5 * MIB <= spans[-1][1] <= 128 * MIB
    assert spans[0][0] == 0 and spans[-1][0] + spans[-1][1] == size
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert plan.count == size // plan.chunk_size  # floor, never ceiling


def test_over_4_gib_is_refused_clearly():
    with pytest.raises(BrokerError) as caught:
        plan_chunks(4 * 1024 * MIB + 1, 10 * MIB)
    assert (caught.value.status, caught.value.code) == (413, "video_too_large")
    with pytest.raises(BrokerError):
        plan_chunks(0, 10 * MIB)


def test_content_range_read_as_last_byte_or_as_count():
    plan = plan_chunks(23 * MIB, 10 * MIB)
    assert _held(10 * MIB - 1, plan) == 10 * MIB  # HTTP's inclusive last byte
    assert _held(10 * MIB, plan) == 10 * MIB  # a byte count
    assert _held(23 * MIB - 1, plan) == 23 * MIB
    assert _held(None, plan) == 0
    assert _held(12345, plan) is None  # not a chunk boundary: out of step
