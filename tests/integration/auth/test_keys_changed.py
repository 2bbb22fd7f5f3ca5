"""After the broker's keys change (a restart without keys in .env), users are told that the
broker's keys changed, not that TikTok refused them."""

from __future__ import annotations

import requests

from tests.support.env import OTHER_ENCRYPTION_KEY, TEST_ENCRYPTION_KEY
from tests.support.flows import login


def test_new_encryption_keys_say_so_and_end_the_session(broker_factory, redis_client):
    before = broker_factory(PROFILE_CACHE_TTL="0")
    result = login(before.url)
    after = broker_factory(PROFILE_CACHE_TTL="0", TOKEN_ENCRYPTION_KEYS=OTHER_ENCRYPTION_KEY)
    answer = requests.get(f"{after.url}/api/me", headers=result.bearer(), timeout=10)
    assert answer.status_code == 401
    body = answer.json()
    assert body["error"] == "reauth_required"
    assert "encryption keys changed" in body["error_description"]
    assert "TikTok no longer accepts" not in body["error_description"]
    # the unreadable grant is gone and the session with it: the old broker agrees
    again = requests.get(f"{before.url}/api/me", headers=result.bearer(), timeout=10)
    assert again.status_code == 401


def test_rotated_encryption_keys_keep_users_signed_in(broker_factory, redis_client):
    before = broker_factory(PROFILE_CACHE_TTL="0")
    result = login(before.url)
    rotated = broker_factory(PROFILE_CACHE_TTL="0",
                             TOKEN_ENCRYPTION_KEYS=f"{OTHER_ENCRYPTION_KEY},{TEST_ENCRYPTION_KEY}")
    assert requests.get(f"{rotated.url}/api/me", headers=result.bearer(),
                        timeout=10).status_code == 200


def test_new_signing_keys_say_so(broker_factory, redis_client):
    result = login(broker_factory().url)
    other = broker_factory(JWT_SIGNING_KEY="an-entirely-different-secret-9f8e7d6c5b4a39281706")
    answer = requests.get(f"{other.url}/api/me", headers=result.bearer(), timeout=10)
    assert answer.status_code == 401
    assert "signing keys changed" in answer.json()["error_description"]
