"""Redis deployments and Redis faults, with real redis-server / redis-sentinel processes.

Each test starts its own Redis processes on loopback (never the shared Redis on 6379) and its
own gunicorn broker on them, then crashes, pauses or fails over Redis under it. What must hold:
nobody is logged out by a failover or a restart, an outage is a fast 503 JSON (never a 500 or a
hung request), and the broker recovers by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.support.broker import Broker
from tests.support.flows import Login, login, refresh
from tests.support.redis_servers import RedisFleet, RedisProcess, redis_fleet, wait_for
from tests.support.sandbox import free_port

# The broker's Redis socket timeout is 2 s: an unanswering Redis must cost no more than that.
FAST = 3.5


@pytest.fixture
def fleet() -> Iterator[RedisFleet]:
    with redis_fleet() as started:
        yield started


@pytest.fixture
def broker_on(broker_factory, sandbox) -> Iterator[Callable[[str], Broker]]:
    """Start a broker on a given REDIS_URL (profiles uncached, so each /api/me reads the grant);
    stopped at the end of the test, before its Redis processes go away."""
    started: list[Broker] = []

    def start(redis_url: str, **env: str) -> Broker:
        broker = broker_factory(REDIS_URL=redis_url, PROFILE_CACHE_TTL="0", **env)
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


def _me(broker: Broker, token: str, timeout: float = 10) -> requests.Response:
    return requests.get(f"{broker.url}/api/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=timeout)


def _assert_store_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "store_unavailable"
    assert response.headers["Retry-After"] == "1"


def _logged_in(broker: Broker) -> Login:
    user = login(broker.url)
    assert user.callback.status_code == 302, user.callback.text
    assert "access_token" in user.fragment, user.fragment
    me = _me(broker, user.access_token)
    assert me.status_code == 200, me.text
    assert me.json()["open_id"] == "-000alice"
    return user


def _session_keys(server: RedisProcess) -> set[str]:
    with server.client() as client:
        return set(client.scan_iter("tb:{*}:sess:*"))


def _replicated(primary: RedisProcess, replica: RedisProcess) -> bool:
    """Whether the replica has applied everything the primary had written (no WAIT needed)."""
    written = primary.info()["master_repl_offset"]
    return bool(replica.info()["slave_repl_offset"] >= written > 0)


@contextmanager
def _background_load(broker: Broker, token: str, clients: int = 4
                     ) -> Iterator[list[tuple[int, float, str | None]]]:
    """Clients calling /api/me in a loop until the block ends: (status, seconds, error code)."""
    answers: list[tuple[int, float, str | None]] = []
    done = threading.Event()

    def client() -> None:
        while not done.is_set():
            asked = time.monotonic()
            response = _me(broker, token, timeout=10)
            code = response.json().get("error") if response.status_code != 200 else None
            answers.append((response.status_code, time.monotonic() - asked, code))
            time.sleep(0.05)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        done.set()
        for thread in threads:
            thread.join(15)


# --- Sentinel ------------------------------------------------------------------------------------

def test_sentinel_failover_keeps_users_logged_in(fleet, broker_on):
    primary = fleet.server()
    replica = fleet.server(replica_of=primary)
    sentinel = fleet.sentinel(primary)
    wait_for(sentinel.known_replicas, timeout=10, what="sentinel to discover the replica")
    # Two sentinels in the URL, the first one dead: asking it must cost a refused connection,
    # not seconds of retries (each worker asks the sentinels when it first connects).
    dead = free_port()
    broker = broker_on(sentinel.url().replace("//", f"//127.0.0.1:{dead},", 1))
    for _ in range(6):
        asked = time.monotonic()
        assert requests.get(f"{broker.url}/readyz", timeout=10).status_code == 200
        assert time.monotonic() - asked < 1, "a dead sentinel slows every new connection down"

    user = _logged_in(broker)
    renewed = refresh(user.browser, broker.url)
    assert renewed.status_code == 200, renewed.text
    token = renewed.json()["access_token"]
    assert _me(broker, token).status_code == 200
    assert _session_keys(primary)
    wait_for(lambda: _replicated(primary, replica), timeout=10, what="replication to catch up")
    assert _session_keys(replica) == _session_keys(primary)

    primary.kill()
    started = time.monotonic()
    seen: list[int] = []
    with _background_load(broker, token) as answers:
        while True:
            asked = time.monotonic()
            response = _me(broker, token, timeout=10)
            assert time.monotonic() - asked < FAST, "a request hung during the failover"
            seen.append(response.status_code)
            if response.status_code == 200:
                break
            _assert_store_unavailable(response)  # 503 while there is no primary: never a 500
            assert time.monotonic() - started < 30, f"no recovery after 30 s: {seen[-5:]}"
            time.sleep(0.2)
        time.sleep(0.5)  # let the concurrent clients see the new primary too
    assert 503 in seen, "the primary was killed, yet no request noticed"
    # Concurrent clients through the failover: only 200s and 503s, none slow.
    assert answers, "the background load sent nothing"
    assert {status for status, _, _ in answers} <= {200, 503}, answers
    assert all(code == "store_unavailable" for status, _, code in answers if status == 503)
    assert max(elapsed for _, elapsed, _ in answers) < FAST
    assert answers[-1][0] == 200

    # Sentinel promoted the replica and the broker found it without a restart.
    assert sentinel.primary_port() == replica.port
    assert replica.info()["role"] == "master"
    # The same user is still logged in: the JWT, the grant and the refresh cookie all work,
    # and writes (rotating the cookie) land on the new primary.
    me = _me(broker, token)
    assert me.status_code == 200 and me.json()["open_id"] == "-000alice"
    again = refresh(user.browser, broker.url)
    assert again.status_code == 200, again.text
    assert _me(broker, again.json()["access_token"]).status_code == 200
    # And a new login works end to end.
    other = login(broker.url, user="-000bob")
    assert other.callback.status_code == 302 and "access_token" in other.fragment, other.fragment
    assert _me(broker, other.access_token).json()["open_id"] == "-000bob"
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 200


def test_sentinel_switchover_moves_writes_to_the_new_primary(fleet, broker_on):
    """A planned failover (`SENTINEL FAILOVER`) demotes a primary the broker is connected to;
    the broker must not keep writing to it (a READONLY error) nor answer 500."""
    primary = fleet.server()
    replica = fleet.server(replica_of=primary)
    sentinel = fleet.sentinel(primary)
    wait_for(sentinel.known_replicas, timeout=10, what="sentinel to discover the replica")
    broker = broker_on(sentinel.url())
    user = _logged_in(broker)
    wait_for(lambda: _replicated(primary, replica), timeout=10, what="replication to catch up")

    with sentinel.client() as client:
        assert client.sentinel_failover("mymaster")
    wait_for(lambda: sentinel.primary_port() == replica.port, timeout=15,
             what="sentinel to name the new primary")
    wait_for(lambda: primary.info()["role"] == "slave", timeout=15,
             what="the old primary to become a replica")

    started = time.monotonic()
    while True:
        renewed = refresh(user.browser, broker.url)  # a write: rotates the refresh cookie
        if renewed.status_code == 200:
            break
        _assert_store_unavailable(renewed)
        assert time.monotonic() - started < 10, "writes did not move to the new primary"
        time.sleep(0.2)
    assert _me(broker, renewed.json()["access_token"]).status_code == 200
    assert _session_keys(replica), "the session was not written to the new primary"


def test_sentinel_with_passwords(fleet, broker_on):
    """Password-protected servers (userinfo of the URL, percent-encoded) behind a sentinel that
    has its own password (`?sentinel_password=`)."""
    primary = fleet.server(password="data p@ss:w/rd")
    sentinel = fleet.sentinel(primary, password="sentinel-secret")
    url = (f"redis+sentinel://:data%20p%40ss%3Aw%2Frd@127.0.0.1:{sentinel.port}/mymaster/0"
           "?sentinel_password=sentinel-secret")
    broker = broker_on(url)
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 200
    _logged_in(broker)
    assert _session_keys(primary)
    # A wrong data password is an outage (503), never a 500 and never a leak of the password.
    wrong = broker_on(url.replace("%20p%40ss", "%20nope"))
    refused = requests.get(f"{wrong.url}/login", allow_redirects=False, timeout=10)
    _assert_store_unavailable(refused)
    assert "p@ss" not in refused.text and "p@ss" not in wrong.log_text()


def test_a_read_only_redis_is_a_503_not_a_500(fleet, broker_on):
    """Pointed straight at a replica (or a demoted primary), writes fail with READONLY."""
    primary = fleet.server()
    replica = fleet.server(replica_of=primary)
    broker = broker_on(replica.url())
    started = requests.get(f"{broker.url}/login", allow_redirects=False, timeout=10)
    _assert_store_unavailable(started)
    assert requests.get(f"{broker.url}/readyz", timeout=10).status_code == 503


# --- a single Redis: crash and restart, pause, transports ---------------------------------------

def test_redis_restart_with_aof_logs_nobody_out(fleet, broker_on):
    server = fleet.server(aof=True)
    broker = broker_on(server.url())
    user = _logged_in(broker)

    server.kill()
    for call in (lambda: _me(broker, user.access_token),
                 lambda: refresh(user.browser, broker.url),
                 lambda: requests.get(f"{broker.url}/login", allow_redirects=False, timeout=10)):
        asked = time.monotonic()
        _assert_store_unavailable(call())
        assert time.monotonic() - asked < FAST
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 503
    assert requests.get(f"{broker.url}/healthz", timeout=5).status_code == 200

    server.start()  # same port, same dir: the append-only file is replayed
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 200
    me = _me(broker, user.access_token)  # the same JWT: session and grant survived
    assert me.status_code == 200, me.text
    assert me.json()["open_id"] == "-000alice"
    old_cookie = user.browser.cookies.get("broker_refresh")
    renewed = refresh(user.browser, broker.url)
    assert renewed.status_code == 200, renewed.text
    assert user.browser.cookies.get("broker_refresh") != old_cookie
    assert _me(broker, renewed.json()["access_token"]).status_code == 200


def test_paused_redis_is_a_fast_503_and_recovers(fleet, broker_on):
    server = fleet.server()
    broker = broker_on(server.url())
    user = _logged_in(broker)

    server.pause()
    try:
        asked = time.monotonic()
        ready = requests.get(f"{broker.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert time.monotonic() - asked < FAST
        asked = time.monotonic()
        _assert_store_unavailable(_me(broker, user.access_token))
        assert time.monotonic() - asked < FAST
        asked = time.monotonic()
        assert requests.get(f"{broker.url}/healthz", timeout=5).status_code == 200
        assert time.monotonic() - asked < 1
    finally:
        server.resume()

    wait_for(lambda: _me(broker, user.access_token).status_code == 200, timeout=5, interval=0.2,
             what="the broker to recover after SIGCONT")
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 200
    assert refresh(user.browser, broker.url).status_code == 200


def test_unix_socket_redis(fleet, broker_on):
    server = fleet.server(unix_socket=True)
    broker = broker_on(server.url())
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 200
    user = _logged_in(broker)
    assert refresh(user.browser, broker.url).status_code == 200
    assert _session_keys(server), "the session is not in the unix-socket Redis"


def test_tls_redis_with_a_verified_certificate(fleet, broker_on):
    server = fleet.server(tls=True)
    broker = broker_on(server.url())
    assert requests.get(f"{broker.url}/readyz", timeout=5).status_code == 200
    user = _logged_in(broker)
    assert refresh(user.browser, broker.url).status_code == 200
    assert _session_keys(server), "the session is not in the TLS Redis"

    # The certificate really is verified: another CA is refused (503, not a silent downgrade).
    stranger = fleet.server(tls=True)
    assert stranger.tls is not None and server.tls is not None
    untrusting = broker_on(server.url().replace(server.tls["ca"], stranger.tls["ca"]))
    assert requests.get(f"{untrusting.url}/readyz", timeout=10).status_code == 503
    _assert_store_unavailable(
        requests.get(f"{untrusting.url}/login", allow_redirects=False, timeout=10))
