"""Shared fixtures: a real Redis, the sandbox over real HTTP, and gunicorn brokers in front."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from tests.support.broker import Broker, start_broker
from tests.support.redis_db import claim_test_database
from tests.support.sandbox import Sandbox, free_port, start_sandbox

REDIS_URL = claim_test_database()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the test database, emptied before each test that uses it."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def tiktok() -> Iterator[Sandbox]:
    """One sandbox process for the whole run (tests add their brokers' redirect URIs)."""
    with start_sandbox(env={"SANDBOX_PROCESSING_SECONDS": "1"}) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(tiktok: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with an empty request log, no faults and no pending webhook deliveries."""
    tiktok.reset_log()
    tiktok.clear_faults()
    tiktok.clear_webhooks()
    yield tiktok
    tiktok.clear_faults()


BrokerFactory = Callable[..., Broker]


@pytest.fixture(scope="session")
def broker_factory(tiktok: Sandbox, redis_url: str) -> Iterator[BrokerFactory]:
    """Start gunicorn brokers on demand, one per distinct environment, kept for the run."""
    running: dict[tuple[tuple[str, str], ...], Broker] = {}

    def make(workers: int = 2, fresh: bool = False, **env: str) -> Broker:
        signature = (*tuple(sorted(env.items())), ("workers", str(workers)))
        if signature in running and not fresh:
            return running[signature]
        port = free_port()
        callback = f"http://127.0.0.1:{port}/auth/callback"
        config = tiktok.config()
        tiktok.configure(redirect_uris=[*config["redirect_uris"], callback],
                         webhook_url=config.get("webhook_url") or
                         f"http://127.0.0.1:{port}/webhooks/tiktok")
        broker = start_broker(sandbox_url=tiktok.url, redis_url=redis_url, port=port,
                              env=env, workers=workers)
        running[(*signature, ("n", str(len(running)))) if fresh else signature] = broker
        return broker

    yield make
    for broker in running.values():
        broker.stop()


@pytest.fixture
def broker(broker_factory: BrokerFactory, redis_client: redis.Redis,
           sandbox: Sandbox) -> Broker:
    """The default broker (fragment delivery), with Redis emptied and the sandbox log clear."""
    return broker_factory()
