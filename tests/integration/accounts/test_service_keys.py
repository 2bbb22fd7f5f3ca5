"""Service keys over real HTTP: made by the CLI, used, listed, revoked (seen by a second broker
process at once), expired; each scope refused where it should be; one audit line per call."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.support.flows import login
from tests.support.service import ALL_SCOPES, cli, connect, create_key, key_id, service


def test_a_key_is_shown_once_stored_as_a_digest_and_listed_without_its_secret(broker,
                                                                              redis_client):
    key = create_key(broker, ("accounts:read",))
    assert key.startswith("tbsk_") and len(key.split("_", 2)[2]) >= 22
    dump = {k: redis_client.hgetall(k) if redis_client.type(k) == "hash" else None
            for k in redis_client.keys("tb:svc-key*")}
    assert key.split("_", 2)[2] not in json.dumps(dump) and all(
        redis_client.ttl(k) > 0 for k in dump)
    listing = cli(broker, "list")
    assert listing.returncode == 0 and key_id(key) in listing.stdout
    assert "accounts:read" in listing.stdout and key.split("_", 2)[2] not in listing.stdout
    answer = requests.get(f"{broker.url}/service/users/u1/accounts", headers=service(key),
                          timeout=10)
    assert answer.status_code == 200 and answer.json() == {"accounts": []}


def test_revocation_is_seen_by_another_broker_process_at_once(broker, broker_factory):
    other = broker_factory(workers=1, JWT_TTL="901")  # a second gunicorn, same Redis
    key = create_key(broker, ("accounts:read",))
    for b in (broker, other):
        assert requests.get(f"{b.url}/service/users/u1/accounts", headers=service(key),
                            timeout=10).status_code == 200
    assert cli(broker, "revoke", key_id(key)).returncode == 0
    for b in (other, broker):
        refused = requests.get(f"{b.url}/service/users/u1/accounts", headers=service(key),
                               timeout=10)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert key_id(key) not in cli(broker, "list").stdout
    assert cli(broker, "revoke", key_id(key)).returncode == 1


def test_an_expired_key_is_refused(broker):
    key = create_key(broker, ("accounts:read",), days="0.00003")  # about 2.6 seconds
    url = f"{broker.url}/service/users/u1/accounts"
    assert requests.get(url, headers=service(key), timeout=10).status_code == 200
    time.sleep(3)
    assert requests.get(url, headers=service(key), timeout=10).status_code == 401


@pytest.mark.parametrize("presented", [
    "tbsk_", "tbsk_0123456789abcdef_" + "A" * 32, "tbsk_zz_" + "A" * 32, "Basic abc",
])
def test_made_up_and_malformed_keys_are_refused(broker, presented):
    key = create_key(broker, ("accounts:read",))
    forged = presented if presented != "tbsk_0123456789abcdef_" + "A" * 32 \
        else key[:-4] + "AAAA"
    header = forged if forged.startswith("Basic") else f"Bearer {forged}"
    answer = requests.get(f"{broker.url}/service/users/u1/accounts",
                          headers={"Authorization": header}, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"


def test_the_cli_refuses_unknown_scopes_and_bad_lifetimes(broker):
    assert cli(broker, "create", "--name", "x", "--scopes", "accounts:read,root").returncode == 1
    assert cli(broker, "create", "--name", "x", "--scopes", "accounts:read",
               "--days", "0").returncode == 1


def test_service_routes_take_a_service_key_not_a_login(broker):
    jwt = login(broker.url, user="-000bob").access_token
    answer = requests.get(f"{broker.url}/service/users/u1/accounts",
                          headers={"Authorization": f"Bearer {jwt}"}, timeout=10)
    assert answer.status_code == 401
    assert requests.get(f"{broker.url}/service/users/u1/accounts",
                        timeout=10).status_code == 401


SERVICE_ROUTES = [  # (method, path, body, scope it needs)
    ("POST", "/service/connect-sessions", {"app_user_id": "u1"}, "accounts:write"),
    ("GET", "/service/users/u1/accounts", None, "accounts:read"),
    ("DELETE", "/service/users/u1/accounts/-000bob", None, "accounts:write"),
    ("POST", "/service/user-tokens", {"app_user_id": "u1"}, "users:tokens"),
    ("POST", "/service/accounts/-000bob/token", None, "tokens:issue"),
]
API_ROUTES = [
    ("GET", "/api/me", None, "profile:read"),
    ("GET", "/api/creator-info", None, "posts:write"),
    ("POST", "/api/videos", {"mode": "draft", "video_size": 1000}, "posts:write"),
    ("GET", "/api/publish/v_pub_file~v2-1.123", None, "posts:read"),
    ("POST", "/api/publish/v_pub_file~v2-1.123/cancel", None, "posts:write"),
    ("GET", "/api/videos", None, "videos:read"),
]


def test_every_scope_is_refused_where_it_is_not_held(broker, sandbox):
    """For each route, a key holding every scope but the one it needs gets 403
    insufficient_scope, before anything else is looked at (TikTok is never called)."""
    full = create_key(broker)
    account = connect(broker, full, "owner", "-000bob").account_id
    sandbox.reset_log()
    for method, path, body, scope in SERVICE_ROUTES + API_ROUTES:
        lacking = create_key(broker, tuple(s for s in ALL_SCOPES if s != scope))
        answer = requests.request(method, f"{broker.url}{path}", json=body, timeout=10,
                                  headers=service(lacking, account))
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"] == "insufficient_scope", path
    assert sandbox.requests() == []


def test_acting_needs_a_known_account(broker):
    key = create_key(broker)
    for account in (None, "-000nobody", "-000bob"):  # -000bob is not connected (yet)
        answer = requests.get(f"{broker.url}/api/me", headers=service(key, account), timeout=10)
        assert answer.status_code == 404 and answer.json()["error"] == "unknown_account"


def test_one_audit_line_per_service_call_and_no_secret(broker):
    key = create_key(broker, ("accounts:read",), name="audited")
    before = broker.log_text().count('"service call"')
    requests.get(f"{broker.url}/service/users/u9/accounts", headers=service(key), timeout=10)
    requests.post(f"{broker.url}/service/user-tokens", headers=service(key), timeout=10,
                  json={"app_user_id": "u9"})
    time.sleep(0.5)
    lines = [json.loads(line) for line in broker.log_text().splitlines()
             if '"service call"' in line][before:]
    assert [(e["route"], e["status"], e["caller"]) for e in lines] == [
        ("service.list_accounts", 200, f"key:{key_id(key)}"),
        ("service.mint_user_token", 403, f"key:{key_id(key)}")]
    assert key.split("_", 2)[2] not in broker.log_text()
