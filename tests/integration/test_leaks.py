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
from tests.support.service import connect_link, consent_and_return, create_key, open_link, service


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
        elif kind == "zset":
            parts.extend(client.zrange(name, 0, -1))
        assert client.ttl(name) > 0, f"{name} has no TTL"
    return "\n".join(parts)


def _response_text(response: requests.Response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items()
                        if k.lower() != "location")
    location = response.headers.get("Location", "")
    if "/v2/auth/authorize/" in location:
        # TikTok's own flow needs the state in the authorize URL; it may hold nothing else secret.
        query = parse_qs(urlsplit(location).query)
        assert set(query) - {"disable_auto_auth"} == {  # that one: a connect (§1.1)
            "client_key", "scope", "response_type", "redirect_uri", "state", "code_challenge",
            "code_challenge_method"}
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

    # The Display API, also across a forced TikTok refresh: its cache holds no token.
    viewer = login(fragment_broker.url, user="-000dave", scope="video.list")
    minted.append(viewer.access_token)
    listed = requests.get(f"{fragment_broker.url}/api/videos", headers=viewer.bearer(),
                          timeout=10)
    sandbox.expire_token("-000dave")
    queried = requests.post(f"{fragment_broker.url}/api/videos/query", headers=viewer.bearer(),
                            json={"video_ids": [listed.json()["videos"][0]["id"]]}, timeout=10)
    assert listed.status_code == queried.status_code == 200 and queried.json()["videos"]
    responses += [viewer.callback, listed, queried]
    dumps.append(_redis_dump(redis_client))

    handoff = login(handoff_broker.url, user="-000bob")
    login_code = handoff.fragment["login_code"]
    traded = handoff.browser.post(f"{handoff_broker.url}/auth/session",
                                  json={"login_code": login_code}, timeout=10)
    minted.append(traded.json()["access_token"])
    responses += [handoff.callback, traded]
    dumps.append(_redis_dump(redis_client))
    responses.append(handoff.browser.post(f"{handoff_broker.url}/auth/session",
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


def test_no_service_key_connect_token_or_tiktok_token_leaks(broker_factory, sandbox,
                                                            redis_client):
    """The service API (broker.accounts): keys, connect links, acting for an offline account
    across a forced TikTok refresh, minted user JWTs, bad keys, unlink with revoke, and TikTok's
    token handed out where that is switched on."""
    broker = broker_factory(PROFILE_CACHE_TTL="0", SERVICE_TOKEN_ISSUE="true")
    key = create_key(broker)
    responses: list[requests.Response] = []
    carriers: list[requests.Response] = []  # answers whose job is to hand over one secret
    dumps: list[str] = []
    connect_tokens: list[str] = []
    states: list[str] = []
    for app_user, tiktok_user in (("app-user-1", "-000bob"), ("app-user-2", "-000bob")):
        link = connect_link(broker, key, app_user, return_to="/accounts")
        carriers.append(link)
        url = link.json()["connect_url"]
        assert set(parse_qs(urlsplit(url).query)) == {"connect_token"}
        connect_tokens.append(parse_qs(urlsplit(url).query)["connect_token"][0])
        browser = requests.Session()
        opened = open_link(browser, url)
        states.append(parse_qs(urlsplit(opened.headers["Location"]).query)["state"][0])
        done = consent_and_return(browser, opened, user=tiktok_user)
        assert done.callback.headers["Location"].endswith("#connected=-000bob")
        responses += [opened, done.callback, open_link(requests.Session(), url)]  # + a replay
        dumps.append(_redis_dump(redis_client))
    acting = service(key, "-000bob")
    responses.append(requests.get(f"{broker.url}/api/me", headers=acting, timeout=10))
    sandbox.expire_token("-000bob")
    forced = requests.get(f"{broker.url}/api/me", headers=acting, timeout=10)
    assert forced.status_code == 200
    responses.append(forced)
    minted = requests.post(f"{broker.url}/service/user-tokens", headers=service(key),
                           json={"app_user_id": "app-user-1"}, timeout=10)
    carriers.append(minted)
    user_jwt = minted.json()["access_token"]
    responses.append(requests.get(f"{broker.url}/api/me", timeout=10, headers={
        "Authorization": f"Bearer {user_jwt}", "Broker-Account": "-000bob"}))
    issued_token = requests.post(f"{broker.url}/service/accounts/-000bob/token",
                                 headers=service(key), timeout=10)
    assert issued_token.status_code == 200
    carriers.append(issued_token)
    for bad in (key[:-3] + "xyz", key + "x", key.replace("tbsk_", "tbsk_0")):
        responses.append(requests.get(f"{broker.url}/service/users/app-user-1/accounts",
                                      headers=service(bad), timeout=10))
    dumps.append(_redis_dump(redis_client))
    for app_user in ("app-user-1", "app-user-2"):
        responses.append(requests.delete(
            f"{broker.url}/service/users/{app_user}/accounts/-000bob?revoke=true",
            headers=service(key), timeout=10))
    assert len(sandbox.requests(endpoint="revoke")) == 1
    dumps.append(_redis_dump(redis_client))

    issued = sandbox.issued()
    secrets = {"service key": [key, key.split("_", 2)[2]], "connect token": connect_tokens,
               "state": states, "user JWT": [user_jwt], "code": issued["codes"],
               "access token": issued["access_tokens"], "refresh token": issued["refresh_tokens"],
               "client secret": [CLIENT_SECRET]}
    logs = broker.log_text()
    assert '"service call"' in logs and "account connected" in logs  # logs are captured
    places = {"logs": logs, "redis": "\n".join(dumps),
              "responses and URLs": "\n".join(_response_text(r) for r in responses)}
    for place, text in places.items():
        for kind, values in secrets.items():
            for value in values:
                assert value not in text, f"{kind} found in {place}"
    for carrier in carriers:  # each hands over its own secret, and none of the others
        text = _response_text(carrier)
        for kind in ("service key", "refresh token", "client secret", "code", "state"):
            for value in secrets[kind]:
                assert value not in text, f"{kind} found in {carrier.url}"
