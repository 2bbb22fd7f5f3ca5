"""GET /metrics from 2-worker gunicorn brokers: counts add up over every worker, labels are routes
and names (never raw paths), and the exposition parses as Prometheus text."""

from __future__ import annotations

import os
import re
import time

import psutil
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.flows import login
from tests.support.processes import free_port

Samples = list[tuple[str, dict[str, str], float]]


def scrape(broker) -> tuple[Samples, str]:
    response = requests.get(f"{broker.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = [(s.name, s.labels, s.value)
               for family in text_string_to_metric_families(response.text)
               for s in family.samples]
    return samples, response.text


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(value for sample, found, value in samples
               if sample == name and labels.items() <= found.items())


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return total(after, name, **labels) - total(before, name, **labels)


def me(broker, result, **params: str) -> requests.Response:
    # A new connection each time, so the requests spread over the workers.
    return requests.get(f"{broker.url}/api/me", headers={**result.bearer(), "Connection": "close"},
                        params=params, timeout=30)


@pytest.fixture
def uncached(broker_factory, redis_client):
    """A 2-worker broker that asks TikTok on every /api/me."""
    return broker_factory(workers=2, PROFILE_CACHE_TTL="0")


def test_counts_add_up_over_workers(uncached, sandbox):
    broker = uncached
    before, _ = scrape(broker)
    result = login(broker.url)
    assert result.fragment.get("access_token"), result.fragment
    for _ in range(20):
        assert me(broker, result).status_code == 200

    sandbox.expire_token("-000alice")  # the next call refreshes the TikTok token once
    assert me(broker, result).status_code == 200
    sandbox.fault("user_info", "status", status=500, times=1)
    assert me(broker, result).status_code == 502
    sandbox.fault("user_info", "rate_limit", times=1)
    assert me(broker, result).status_code == 429

    # Several scrapes, whichever worker answers them, agree on every count.
    scrapes = [scrape(broker)[0] for _ in range(6)]
    after = scrapes[0]
    requests_total = "tiktok_broker_http_requests_total"
    for other in scrapes[1:]:
        assert total(other, requests_total, route="api.me") == total(after, requests_total,
                                                                     route="api.me")
    assert delta(before, after, requests_total, route="api.me", method="GET", status="200") == 21
    assert delta(before, after, requests_total, route="api.me", status="502") == 1
    assert delta(before, after, requests_total, route="api.me", status="429") == 1
    assert delta(before, after, "tiktok_broker_http_request_duration_seconds_count",
                 route="api.me") == 23
    assert delta(before, after, requests_total, route="auth.login", status="302") == 1
    assert delta(before, after, requests_total, route="auth.callback", status="302") == 1

    calls = "tiktok_broker_tiktok_calls_total"
    assert delta(before, after, calls, endpoint="token", outcome="ok") == 2  # exchange, refresh
    assert delta(before, after, calls, endpoint="user_info", outcome="ok") == 22  # + login's
    # The expired token: TikTok calls it invalid once, then the refreshed one works.
    assert delta(before, after, calls, endpoint="user_info", outcome="access_token_invalid") == 1
    assert delta(before, after, calls, endpoint="user_info", outcome="http_5xx") == 1
    assert delta(before, after, calls, endpoint="user_info", outcome="rate_limited") == 1
    assert delta(before, after, "tiktok_broker_tiktok_call_duration_seconds_count",
                 endpoint="user_info") == 25
    assert delta(before, after, "tiktok_broker_token_refreshes_total", outcome="done") == 1
    assert delta(before, after, "tiktok_broker_token_refreshes_total", outcome="failed") == 0
    assert delta(before, after, "tiktok_broker_logins_total", outcome="completed") == 1


def test_labels_name_routes_never_paths(uncached, sandbox):
    broker = uncached
    result = login(broker.url)
    requests.get(f"{broker.url}/api/publish/p_secretish_42?x=query-value", timeout=10,
                 headers=result.bearer())
    requests.get(f"{broker.url}/no/such/thing-77?q=other-value", timeout=10)
    requests.get(f"{broker.url}/auth/callback?state=state-value-99&code=code-value", timeout=10)
    samples, text = scrape(broker)
    for needle in ("p_secretish_42", "query-value", "thing-77", "other-value", "state-value-99",
                   "code-value", "-000alice"):
        assert needle not in text
    routes = {labels["route"] for name, labels, _ in samples if "route" in labels}
    assert {"api.me", "auth.login", "auth.callback", "unmatched"} <= routes
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", route) for route in routes), routes
    assert total(samples, "tiktok_broker_logins_total", outcome="invalid_state") >= 1


def test_login_outcomes(uncached, sandbox):
    broker = uncached
    before, _ = scrape(broker)
    declined = login(broker.url, decision="deny")
    assert declined.fragment.get("error") == "access_denied"
    sandbox.fault("token", "status", status=500, times=1)
    failed = login(broker.url)
    assert failed.fragment.get("error")
    after, _ = scrape(broker)
    logins = "tiktok_broker_logins_total"
    assert delta(before, after, logins, outcome="declined") == 1
    assert delta(before, after, logins, outcome="failed") == 1
    assert delta(before, after, logins, outcome="completed") == 0
    assert delta(before, after, "tiktok_broker_tiktok_calls_total", endpoint="token",
                 outcome="http_5xx") == 1


def _counter_file_pids(directory: str) -> set[int]:
    return {int(m[1]) for name in os.listdir(directory)
            if (m := re.fullmatch(r"counter_(\d+)\.db", name))}


def test_each_worker_writes_its_own_files(broker_factory, redis_client, sandbox, tmp_path):
    """preload_app builds the metrics in the master; the workers must not share its files."""
    directory = str(tmp_path)
    broker = broker_factory(workers=2, fresh=True, PROMETHEUS_MULTIPROC_DIR=directory)
    for _ in range(40):
        assert requests.get(f"{broker.url}/healthz", headers={"Connection": "close"},
                            timeout=10).status_code == 200
    master = psutil.Process(broker.process.pid)
    deadline = time.monotonic() + 10  # a busy machine may still be forking the second worker
    while len(master.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = {child.pid for child in master.children()}
    assert len(workers) == 2, broker.log_text()[-2000:]
    samples, _ = scrape(broker)
    assert total(samples, "tiktok_broker_http_requests_total", route="ops.healthz") >= 41
    writers = _counter_file_pids(directory)
    assert writers and writers <= workers | {broker.process.pid}
    assert writers & workers
    broker.stop()
    assert os.path.isdir(directory)  # a directory that was given is never removed



def test_made_up_methods_do_not_grow_the_metrics(broker_factory):
    broker = broker_factory()
    before, text_before = scrape(broker)
    for n in range(40):
        requests.request(f"X{n}METHOD", f"{broker.url}/healthz", timeout=5)
        requests.get(f"{broker.url}/made-up/path/{n}", timeout=5)
    after, text = scrape(broker)
    assert "X1METHOD" not in text and "made-up" not in text
    assert delta(before, after, "tiktok_broker_http_requests_total", method="other") == 40
    assert delta(before, after, "tiktok_broker_http_requests_total", route="unmatched",
                 method="GET") == 40
    grown = len(text) - len(text_before)
    assert grown < 6000, grown  # a few new series, not 80


def test_metrics_can_be_served_off_the_public_listener(broker_factory):
    port = free_port()
    broker = broker_factory(METRICS_BIND=f"127.0.0.1:{port}")
    requests.get(f"{broker.url}/healthz", timeout=5)
    assert requests.get(f"{broker.url}/metrics", timeout=5).status_code == 404
    private = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert private.status_code == 200
    assert 'route="ops.healthz"' in private.text
