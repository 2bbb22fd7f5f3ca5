"""Acting for a connected account over real HTTP: a service key posting for a user who is not
online, `reauth_required` once TikTok refuses or removes the grant, JWTs minted for app users,
and TikTok's own token handed out only when switched on."""

from __future__ import annotations

import time

import requests

from tests.support.flows import login
from tests.support.posting import put_file, signed_webhook, start_upload, wait_for
from tests.support.service import cli, connect, create_key, key_id, service


def _me(broker, headers):
    return requests.get(f"{broker.url}/api/me", headers=headers, timeout=10)


def _status(broker, key, app_user_id="user-1"):
    accounts = requests.get(f"{broker.url}/service/users/{app_user_id}/accounts",
                            headers=service(key), timeout=10).json()["accounts"]
    return {a["account_id"]: a["status"] for a in accounts}


def test_a_service_key_posts_a_video_for_an_offline_user(broker, roomy_sandbox, redis_client):
    key = create_key(broker, ("accounts:write", "posts:write", "posts:read"))
    connect(broker, key, "user-1", "-000bob")
    assert redis_client.keys("tb:{*}:sess:*") == []  # bob never signed in to the broker
    acting = service(key, "-000bob")
    started = start_upload(broker.url, acting, 3000, mode="direct")
    assert started.status_code == 201, started.text
    publish_id, upload_url = started.json()["publish_id"], started.json()["upload_url"]
    assert put_file(broker.url, upload_url, acting, 3000).status_code == 200

    def done():
        answer = requests.get(f"{broker.url}/api/publish/{publish_id}", headers=acting,
                              timeout=10).json()
        return answer if answer["status"] == "PUBLISH_COMPLETE" else None
    assert wait_for(done, timeout=20)["publish_id"] == publish_id
    # another account's key-holder view: the post belongs to bob's account only
    connect(broker, key, "user-2", "-000carol")
    other = requests.get(f"{broker.url}/api/publish/{publish_id}",
                         headers=service(key, "-000carol"), timeout=10)
    assert other.status_code == 404


def test_reauth_required_after_tiktok_refuses_the_refresh(broker_factory, sandbox,
                                                          redis_client):
    broker = broker_factory(PROFILE_CACHE_TTL="0")
    key = create_key(broker)
    connect(broker, key, "user-1", "-000bob")
    webhook_url = sandbox.config()["webhook_url"]
    sandbox.configure(webhook_url="")  # only the refresh path may notice, not a webhook
    try:
        sandbox.disconnect("-000bob")  # TikTok revokes access and refresh tokens
        refused = _me(broker, service(key, "-000bob"))
    finally:
        sandbox.configure(webhook_url=webhook_url)
    assert refused.status_code == 401 and refused.json()["error"] == "reauth_required"
    assert _status(broker, key) == {"-000bob": "reauth_required"}
    assert not redis_client.exists("tb:grant:-000bob")
    calls = len(sandbox.requests(endpoint="token"))
    again = _me(broker, service(key, "-000bob"))
    assert again.status_code == 401 and again.json()["error"] == "reauth_required"
    assert len(sandbox.requests(endpoint="token")) == calls  # TikTok is not asked again
    connect(broker, key, "user-1", "-000bob")  # connected again: active
    assert _status(broker, key) == {"-000bob": "active"}
    assert _me(broker, service(key, "-000bob")).status_code == 200


def test_reauth_required_after_authorization_removed(broker, sandbox, redis_client):
    key = create_key(broker)
    connect(broker, key, "user-1", "-000carol")
    connect(broker, key, "user-2", "-000carol")
    answer, _ = signed_webhook(broker.url, "authorization.removed", {"reason": 1}, "-000carol")
    assert answer.status_code == 200
    assert _status(broker, key, "user-1") == {"-000carol": "reauth_required"}
    assert _status(broker, key, "user-2") == {"-000carol": "reauth_required"}
    assert not redis_client.exists("tb:grant:-000carol")
    refused = _me(broker, service(key, "-000carol"))
    assert refused.status_code == 401 and refused.json()["error"] == "reauth_required"


def test_a_jwt_minted_for_an_app_user_acts_only_for_that_users_accounts(broker, sandbox):
    key = create_key(broker, ("accounts:write", "users:tokens", "profile:read"))
    connect(broker, key, "user-1", "-000bob")
    connect(broker, key, "user-2", "-000carol")
    minted = requests.post(f"{broker.url}/service/user-tokens", headers=service(key),
                           json={"app_user_id": "user-1"}, timeout=10)
    assert minted.status_code == 200 and minted.json()["token_type"] == "Bearer"
    jwt = {"Authorization": f"Bearer {minted.json()['access_token']}"}
    me = _me(broker, {**jwt, "Broker-Account": "-000bob"})
    assert me.status_code == 200 and me.json()["open_id"] == "-000bob"
    for account in ("-000carol", "-000alice", None):  # another user's, unknown, none
        headers = {**jwt, "Broker-Account": account} if account else jwt
        refused = _me(broker, headers)
        assert refused.status_code == 404 and refused.json()["error"] == "unknown_account"
    # the minting key had no posts:write, so neither has the token
    post = requests.get(f"{broker.url}/api/creator-info",
                        headers={**jwt, "Broker-Account": "-000bob"}, timeout=10)
    assert post.status_code == 403 and post.json()["error"] == "insufficient_scope"
    # a user token is no service key
    assert requests.get(f"{broker.url}/service/users/user-1/accounts", headers=jwt,
                        timeout=10).status_code == 401
    # it dies with the key that minted it
    assert cli(broker, "revoke", key_id(key)).returncode == 0
    gone = _me(broker, {**jwt, "Broker-Account": "-000bob"})
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_token"


def test_login_jwts_are_unchanged_and_act_only_for_themselves(broker, sandbox):
    key = create_key(broker)
    connect(broker, key, "user-1", "-000carol")
    bob = login(broker.url, user="-000bob")
    assert _me(broker, bob.bearer()).json()["open_id"] == "-000bob"
    assert _me(broker, {**bob.bearer(), "Broker-Account": "-000bob"}).status_code == 200
    other = _me(broker, {**bob.bearer(), "Broker-Account": "-000carol"})
    assert other.status_code == 404 and other.json()["error"] == "unknown_account"


def test_tiktok_token_issuing_is_off_by_default(broker, sandbox):
    key = create_key(broker)
    connect(broker, key, "user-1", "-000bob")
    answer = requests.post(f"{broker.url}/service/accounts/-000bob/token",
                           headers=service(key), timeout=10)
    assert answer.status_code == 403 and answer.json()["error"] == "token_issue_disabled"
    assert "act." not in answer.text


def test_tiktok_token_issuing_when_switched_on_is_audited(broker_factory, sandbox):
    broker = broker_factory(SERVICE_TOKEN_ISSUE="true")
    key = create_key(broker)
    connect(broker, key, "user-1", "-000bob")
    answer = requests.post(f"{broker.url}/service/accounts/-000bob/token",
                           headers=service(key), timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["access_token"].startswith("act.") and body["open_id"] == "-000bob"
    assert body["expires_in"] > 0 and "video.publish" in body["scope"].split(",")
    info = requests.get(f"{sandbox.url}/v2/user/info/?fields=open_id", timeout=10,
                        headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.json()["data"]["user"]["open_id"] == "-000bob"
    unknown = requests.post(f"{broker.url}/service/accounts/-000nobody/token",
                            headers=service(key), timeout=10)
    assert unknown.status_code == 404
    time.sleep(0.3)
    assert "TikTok access token handed out" in broker.log_text()
    assert body["access_token"] not in broker.log_text()
