"""No TikTok token, code, client secret, state, login code or broker JWT leaks anywhere.

Runs a busy session (both delivery modes, refreshes, a forced TikTok refresh, reuse detection,
errors, logout, revoke), then greps the brokers' logs, every broker response, and every Redis key
and value for each secret the sandbox issued or the broker minted.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.broker import CLIENT_SECRET
from tests.support.flows import consent_redirect, finish_login, login, refresh, start_login


def _redis_dump(client) -> str:
    parts = []
    for name in client.scan_iter(count=500):
        parts.append(name)
        kind = client.type(name)
        if kind == "string":
            parts.append(client.get(name) or "")
        elif kind == "hash":
            parts.extend(f"{k}={v}" for k, v in client.hgetall(name).items())
        elif kind == "set":
            parts.extend(client.smembers(name))
        assert client.ttl(name) > 0, f"{name} has no TTL"
    return "\n".join(parts)


def _response_text(response: requests.Response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items()
                        if k.lower() != "location")
    location = response.headers.get("Location", "")
    if "/v2/auth/authorize/" in location:
        # TikTok's own flow needs the state in the authorize URL; it may hold nothing else secret.
        query = parse_qs(urlsplit(location).query)
        assert set(query) == {"client_key", "scope", "response_type", "redirect_uri", "state",
                              "code_challenge", "code_challenge_method"}
        location = location.split("?")[0]
    # The callback's 302 carries the broker JWT in the fragment by design; nothing else may.
    return f"{response.status_code}\n{headers}\n{location.split('#')[0]}\n{response.text}"


def test_no_secret_reaches_logs_responses_or_redis(broker_factory, sandbox, redis_client):
    fragment_broker = broker_factory(PROFILE_CACHE_TTL="0")
    handoff_broker = broker_factory(SPA_TOKEN_DELIVERY="handoff")
    responses: list[requests.Response] = []
    dumps: list[str] = []
    states: list[str] = []
    minted: list[str] = []

    browser = requests.Session()
    started = start_login(browser, fragment_broker.url)
    responses.append(started)
    states.append(parse_qs(urlsplit(started.headers["Location"]).query)["state"][0])
    first = finish_login(browser, consent_redirect(browser, started))
    responses.append(first.callback)
    minted.append(first.access_token)
    dumps.append(_redis_dump(redis_client))

    me = requests.get(f"{fragment_broker.url}/api/me", headers=first.bearer(), timeout=10)
    sandbox.expire_token("-000alice")
    forced = requests.get(f"{fragment_broker.url}/api/me", headers=first.bearer(), timeout=10)
    assert forced.status_code == 200
    responses += [me, forced]
    stolen = first.browser.cookies.get("broker_refresh")
    renewed = refresh(first.browser, fragment_broker.url)
    minted.append(renewed.json()["access_token"])
    responses += [renewed, refresh(first.browser, fragment_broker.url, cookie=stolen)]
    dumps.append(_redis_dump(redis_client))

    handoff = login(handoff_broker.url, user="-000bob")
    login_code = handoff.fragment["login_code"]
    traded = requests.post(f"{handoff_broker.url}/auth/session", json={"login_code": login_code},
                           timeout=10)
    minted.append(traded.json()["access_token"])
    responses += [handoff.callback, traded]
    dumps.append(_redis_dump(redis_client))
    responses.append(requests.post(f"{handoff_broker.url}/auth/session",
                                   json={"login_code": login_code}, timeout=10))
    responses.append(requests.get(f"{handoff_broker.url}/api/me",
                                  headers={"Authorization": "Bearer " + minted[0]}, timeout=10))
    declined = login(fragment_broker.url, decision="deny")
    responses.append(declined.callback)
    sandbox.fault("token", "status", status=500, times=1)
    failed = login(fragment_broker.url)
    responses.append(failed.callback)
    bearer = {"Authorization": f"Bearer {traded.json()['access_token']}"}
    responses.append(requests.post(f"{handoff_broker.url}/logout?revoke=true", headers=bearer,
                                   timeout=10))
    dumps.append(_redis_dump(redis_client))

    issued = sandbox.issued()
    tiktok_secrets = {"client secret": [CLIENT_SECRET], "code": issued["codes"],
                      "access token": issued["access_tokens"],
                      "refresh token": issued["refresh_tokens"]}
    broker_secrets = {"state": states, "login code": [login_code], "broker JWT": minted}
    assert issued["codes"] and issued["access_tokens"] and issued["refresh_tokens"]

    logs = fragment_broker.log_text() + handoff_broker.log_text()
    assert "login completed" in logs  # the logs are really being captured
    places = {"logs": logs, "redis": "\n".join(dumps),
              "responses": "\n".join(_response_text(r) for r in responses)}
    for place, text in places.items():
        for kind, values in {**tiktok_secrets, **broker_secrets}.items():
            if place == "responses" and kind in ("broker JWT", "login code"):
                continue  # handing these to the SPA is the responses' job
            for value in values:
                assert value not in text, f"{kind} found in {place}"
