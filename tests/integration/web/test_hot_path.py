"""The authenticated hot path: a cached GET /api/me is exactly one Redis round trip (one
command from the broker, counted at a real Redis with MONITOR), and logout or revoke on one
replica is refused on another at the very next call."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import redis
import requests

from tests.support.flows import login

CONNECTION_SETUP = ("SELECT", "CLIENT", "HELLO", "AUTH")


def commands_during(redis_url: str, action) -> list[dict[str, Any]]:
    """The commands clients (not scripts) sent to this database while `action` ran."""
    db = int(urlsplit(redis_url).path.strip("/") or 0)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    seen: list[dict[str, Any]] = []
    monitor = client.monitor()
    monitor.__enter__()
    done = threading.Event()

    def listen() -> None:
        try:
            for command in monitor.listen():
                if done.is_set() and command["command"].startswith("ECHO end-of-action"):
                    return
                seen.append(command)
        except (redis.ConnectionError, ValueError):
            return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.2)
    action()
    done.set()
    client.echo("end-of-action")  # the listener stops at it: everything before it was seen
    listener.join(5)
    monitor.__exit__(None, None, None)
    return [c for c in seen if c.get("db") == db and c.get("client_type") != "lua"
            and not c["command"].startswith(("PING", "ECHO", "MONITOR"))]


def test_a_cached_me_is_one_redis_round_trip(broker_factory, redis_client, redis_url):
    broker = broker_factory(RATE_LIMIT_ENABLED="true", RATE_LIMIT_API="1000/minute;50/second")
    result = login(broker.url)
    for _ in range(20):  # the profile is cached, the script loaded, connections open
        assert requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=10).ok
    answers: list[requests.Response] = []

    def five_calls() -> None:
        answers.extend(requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=10)
                       for _ in range(5))

    sent = commands_during(redis_url, five_calls)
    assert [a.status_code for a in answers] == [200] * 5
    assert answers[0].json()["open_id"] == "-000alice"
    # A pooled connection opened meanwhile says SELECT once; no request sends anything else.
    per_request = [c["command"].split()[0] for c in sent
                   if not c["command"].startswith(CONNECTION_SETUP)]
    assert per_request == ["EVALSHA"] * 5, sent


def test_the_rate_limit_still_holds_on_the_hot_path(broker_factory, redis_client):
    broker = broker_factory(RATE_LIMIT_ENABLED="true", RATE_LIMIT_API="3/minute")
    result = login(broker.url)
    statuses = [requests.get(f"{broker.url}/api/me", headers=result.bearer(),
                             timeout=10).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    refused = requests.get(f"{broker.url}/api/me", headers=result.bearer(), timeout=10)
    assert refused.json()["error"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1


def test_logout_and_revoke_on_one_replica_are_refused_on_the_other_at_once(broker_factory,
                                                                         redis_client):
    first = broker_factory(fresh=True)
    second = broker_factory(fresh=True)
    for revoke in (False, True):
        result = login(first.url, user="-000bob")
        # Both replicas have the profile cached now, and every worker that answered remembers
        # the verified token (broker.auth.jwts): neither may outlive the session.
        for url in (first.url, second.url):
            for _ in range(6):
                assert requests.get(f"{url}/api/me", headers=result.bearer(), timeout=10).ok
        out = requests.post(f"{first.url}/logout", params={"revoke": "true"} if revoke else {},
                            headers=result.bearer(), timeout=10)
        assert out.status_code == 204
        for _ in range(6):
            refused = requests.get(f"{second.url}/api/me", headers=result.bearer(), timeout=10)
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
