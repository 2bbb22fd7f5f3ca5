"""The control and inspection API under /_sandbox/."""

from __future__ import annotations

import time

import pytest
import requests


def test_request_log_and_filters(tt, sandbox):
    tokens = tt.login()
    tt.refresh(tokens["refresh_token"])
    tt.user_info(tokens, "open_id")
    log = sandbox.requests()
    assert [e["endpoint"] for e in log] == ["authorize", "authorize", "token", "token",
                                            "user_info"]
    refreshes = sandbox.requests(endpoint="token", grant_type="refresh_token")
    assert len(refreshes) == 1
    assert refreshes[0]["open_id"] == "-000alice" and refreshes[0]["status"] == 200
    assert {"method", "path", "endpoint", "status", "time"} <= set(refreshes[0])
    sandbox.reset_log()
    assert sandbox.requests() == []


def test_fault_status_for_token_and_api(tt, sandbox):
    tokens = tt.login()
    sandbox.fault("token", "status", status=503, times=1)
    resp = tt.refresh(tokens["refresh_token"])
    assert resp.status_code == 503 and resp.json()["error"] == "temporarily_unavailable"
    assert tt.refresh(tokens["refresh_token"]).status_code == 200  # times=1, token untouched
    sandbox.fault("user_info", "status", status=500)
    assert tt.user_info(tokens, "open_id").status_code == 500
    assert tt.user_info(tokens, "open_id").json()["error"]["code"] == "internal_error"
    sandbox.clear_faults()
    assert tt.user_info(tokens, "open_id").status_code == 200


def test_fault_rate_limit_malformed_error_200(tt, sandbox):
    tokens = tt.login()
    sandbox.fault("creator_info", "rate_limit", times=1)
    resp = tt.post("creator_info/query/", tokens)
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "rate_limit_exceeded"
    sandbox.fault("token", "malformed", times=1)
    resp = tt.refresh(tokens["refresh_token"])
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()
    sandbox.fault("token", "error_200", error="invalid_grant", times=1)
    resp = tt.refresh(tokens["refresh_token"])
    assert resp.status_code == 200 and resp.json()["error"] == "invalid_grant"
    sandbox.fault("user_info", "error_200", times=1)
    resp = tt.user_info(tokens, "open_id")
    assert resp.status_code == 200 and resp.json()["error"]["code"] == "internal_error"
    log = sandbox.requests(endpoint="token", grant_type="refresh_token")
    assert [e.get("fault") for e in log] == ["malformed", "error_200"]


def test_fault_latency_and_wildcard(tt, sandbox):
    tokens = tt.login()
    sandbox.fault("*", "latency", seconds=0.4, times=2)
    started = time.monotonic()
    tt.user_info(tokens, "open_id")
    tt.post("creator_info/query/", tokens)
    assert time.monotonic() - started >= 0.8
    started = time.monotonic()
    tt.user_info(tokens, "open_id")
    assert time.monotonic() - started < 0.3


def test_fault_drop_connection(tt, sandbox):
    tokens = tt.login()
    sandbox.fault("token", "drop", times=1)
    with pytest.raises(requests.ConnectionError):
        tt.refresh(tokens["refresh_token"])
    assert tt.refresh(tokens["refresh_token"]).status_code == 200
    # The dropped request is logged as its connection closes, which may be after the retry's
    # entry: both are there, in either order, and only the first attempt was dropped.
    logged = sandbox.requests(endpoint="token", grant_type="refresh_token")
    assert sorted(str(e.get("fault")) for e in logged) == ["None", "drop"]


def test_fault_validation(sandbox):
    with pytest.raises(requests.HTTPError):
        sandbox.fault("nope", "status")
    with pytest.raises(requests.HTTPError):
        sandbox.fault("token", "explode")


def test_config_runtime_change_validation_and_reset(sandbox):
    assert sandbox.config()["pkce"] == "required"
    assert sandbox.configure(pkce="optional", access_ttl=5)["effective_access_ttl"] == 5
    bad = requests.post(f"{sandbox.url}/_sandbox/config",
                        json={"pkce": "maybe", "access_ttl": "x", "bogus": 1})
    assert bad.status_code == 400 and len(bad.json()["problems"]) == 3
    sandbox.reset()
    cfg = sandbox.config()
    assert cfg["pkce"] == "required" and cfg["effective_access_ttl"] == 7200
    assert cfg["processing_seconds"] == 0.3  # start-up env is the reset target


def test_defaults_match_dev_setup(sandbox):
    cfg = sandbox.config()
    assert cfg["client_key"] == "sbawdevclientkey"
    assert cfg["client_secret"] == "sandbox-dev-client-secret"
    assert cfg["redirect_uris"] == ["http://localhost:8000/auth/callback"]
    assert cfg["webhook_url"] == "" and cfg["audited"] is False
    assert cfg["effective_refresh_ttl"] == 15552000 and cfg["rotation"] == "strict"
    assert cfg["verified_url_prefixes"] == ["https://media.example.com/"]
    assert cfg["upload_url_ttl"] == 3600 and cfg["code_ttl"] == 600


def test_reset_forgets_tokens_but_issued_keeps_them(tt, sandbox):
    tokens = tt.login()
    code, _ = tt.get_code()
    sandbox.reset()
    assert tt.user_info(tokens, "open_id").status_code == 401
    issued = sandbox.issued()
    assert tokens["access_token"] in issued["access_tokens"]
    assert tokens["refresh_token"] in issued["refresh_tokens"]
    assert code in issued["codes"]
    assert issued["client_secret"] == "sandbox-dev-client-secret"


def test_users_listing_and_unknown_user(sandbox):
    users = requests.get(f"{sandbox.url}/_sandbox/users").json()["users"]
    assert [u["open_id"] for u in users] == ["-000alice", "-000bob", "-000carol", "-000dave"]
    assert requests.post(f"{sandbox.url}/_sandbox/users/-000zed/disconnect").status_code == 404


def test_health(sandbox):
    resp = requests.get(f"{sandbox.url}/_sandbox/health")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
