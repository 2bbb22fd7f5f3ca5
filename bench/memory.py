"""Redis memory per logged-in user, at 10,000 and 100,000 users, extrapolated to 1 million.

    python -m bench memory [--quick] [--sizes 10000,100000] [--sample 4]

On a private redis-server (spare loopback port, nothing on disk), `INFO memory` used_memory
(less mem_clients_normal, the connections' buffers) is read before and after creating N
logged-in users through the broker's own store classes, with the sizes real logins produce:

- `SessionStore.create`: the session hash and the user's session index (30-day TTL);
- `GrantStore.save` through a `Vault`: the sealed TikTok grant, with access and refresh tokens
  as long as the sandbox's (taken from a real login's stored grant);
- `ProfileService.get`: the cached profile (`PROFILE_CACHE_TTL`, 60 s by default), measured
  separately because it exists only for users active in the last minute.

The baseline is the empty server (same process, same connections). The check: `--sample` real
logins through a running broker and sandbox (one per sandbox test user) on the same server,
whose used_memory delta and per-key `MEMORY USAGE` are compared with the synthetic users'.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import requests

from bench.common import (
    broker_stack,
    machine,
    machine_line,
    private_redis,
    save,
    say,
    table,
)
from broker.storage.keyspace import session_key, user_key
from tests.support.broker import SCOPES
from tests.support.env import TEST_ENCRYPTION_KEY
from tests.support.flows import login
from tests.support.sandbox import TEST_USERS as SAMPLE_USERS

SESSION_TTL = 2_592_000
MIB = 1024 * 1024


def used_memory(client: redis.Redis) -> int:
    """used_memory without the clients' buffers (mem_clients_normal), which move with the
    number of open connections rather than with the data."""
    info = client.info("memory")
    return int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))


def settle(client: redis.Redis) -> int:
    """used_memory once the server is idle (a few reads, 0.2 s apart, take the last)."""
    value = 0
    for _ in range(3):
        time.sleep(0.2)
        value = used_memory(client)
    return value


def key_usage(client: redis.Redis, open_id: str) -> dict[str, int]:
    """MEMORY USAGE of each key a logged-in user has (one session)."""
    sessions = [str(s) for s in client.smembers(user_key(open_id, "user-sessions"))]
    names = {"session": session_key(sessions[0]) if sessions else "",
             "session index": user_key(open_id, "user-sessions"),
             "grant": f"tb:grant:{open_id}", "profile cache": user_key(open_id, "profile")}
    return {label: int(client.memory_usage(name, samples=0) or 0) if name else 0
            for label, name in names.items()}


def real_sample(redis_url: str, users: tuple[str, ...]) -> dict[str, Any]:
    """Real logins through broker and sandbox: used_memory per user, key sizes, token sizes."""
    from broker.clock import SystemClock
    from broker.grants import GrantStore
    from broker.storage.vault import Vault

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with broker_stack(redis_url, workers=1) as (_sandbox, brokers):
        # Warm the broker (scripts loaded, pools open), then start from an empty keyspace.
        login(brokers[0].url, user=users[0])
        client.flushall()
        before = settle(client)
        for user in users:
            jwt = login(brokers[0].url, user=user).access_token
            requests.get(f"{brokers[0].url}/api/me", headers={"Authorization": f"Bearer {jwt}"},
                         timeout=10).raise_for_status()
        after = settle(client)
    vault = Vault((base64.urlsafe_b64decode(TEST_ENCRYPTION_KEY),))
    grant = GrantStore(client, vault, SystemClock()).load(users[0])
    assert grant is not None
    profiles = client.hgetall(user_key(users[0], "profile"))
    field_set, profile_json = next(iter(profiles.items()))
    usage = {user: key_usage(client, user) for user in users}
    client.flushall()
    client.close()
    return {"users": len(users), "used_memory_delta": after - before,
            "per_user": (after - before) / len(users), "key_usage": usage,
            "access_token_len": len(grant.access_token),
            "refresh_token_len": len(grant.refresh_token or ""),
            "open_id_len": len(users[0]), "profile_field_set": field_set,
            "profile": json.loads(profile_json)}


class _Grants:
    """Stands in for GrantKeeper in ProfileService: hands the action a token."""

    def call(self, open_id: str, action: Any) -> Any:
        return action("act.bench")


class _TikTok:
    """Stands in for TikTokClient in ProfileService: the profile a real login fetched."""

    def __init__(self, profile: dict[str, Any]) -> None:
        self.profile = profile

    def user_info(self, token: str, fields: tuple[str, ...]) -> dict[str, Any]:
        return {**self.profile, "open_id": self._open_id}

    _open_id = ""


@contextlib.contextmanager
def stores(redis_url: str) -> Iterator[tuple[Any, Any, redis.Redis]]:
    from broker.auth.sessions import SessionStore
    from broker.clock import SystemClock
    from broker.grants import GrantStore
    from broker.storage.vault import Vault

    client = redis.Redis.from_url(redis_url, decode_responses=True, max_connections=16)
    vault = Vault((base64.urlsafe_b64decode(TEST_ENCRYPTION_KEY),))
    try:
        clock = SystemClock()
        yield SessionStore(client, clock, vault), GrantStore(client, vault, clock), client
    finally:
        client.close()


def synthetic(redis_url: str, n: int, sample: dict[str, Any]) -> dict[str, Any]:
    """N users through the store classes: used_memory per user without and with the profile
    cache, and one synthetic user's key sizes."""
    import secrets

    from broker.profiles import ProfileService
    from broker.tiktok import TikTokGrant

    field_set: tuple[str, ...] = tuple(sample["profile_field_set"].split(","))
    with stores(redis_url) as (sessions, grants, client):
        client.flushall()
        open_ids = [str(uuid.uuid4()) for _ in range(n)]  # TikTok's open_id: a 36-char UUID

        def user(open_id: str) -> None:
            now = time.time()
            sessions.create(open_id, SCOPES, SESSION_TTL)
            grants.save(TikTokGrant(
                open_id=open_id,
                access_token="act." + secrets.token_urlsafe(sample["access_token_len"])[
                    :sample["access_token_len"] - 4],
                expires_at=now + 86400,
                refresh_token="rft." + secrets.token_urlsafe(sample["refresh_token_len"])[
                    :sample["refresh_token_len"] - 4],
                refresh_expires_at=now + 365 * 86400, scopes=SCOPES, issued_at=now))

        def profile(open_id: str) -> None:
            tiktok = _TikTok(sample["profile"])
            tiktok._open_id = open_id
            ProfileService(client, _Grants(), tiktok, 60).get(  # type: ignore[arg-type]
                open_id, field_set)

        before = settle(client)
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(user, open_ids, chunksize=256))
        logged_in = settle(client)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(profile, open_ids, chunksize=256))
        with_profiles = settle(client)
        seconds = time.monotonic() - started
        usage = key_usage(client, open_ids[0])
        info = client.info("memory")
        client.flushall()
    return {"users": n, "seconds_to_create": seconds, "baseline_used_memory": before,
            "used_memory": logged_in, "used_memory_with_profiles": with_profiles,
            "per_user": (logged_in - before) / n,
            "per_user_with_profile": (with_profiles - before) / n,
            "used_memory_rss": int(info["used_memory_rss"]),
            "mem_fragmentation_ratio": float(info["mem_fragmentation_ratio"]),
            "key_usage": usage}


def run(*, sizes: list[int], sample_users: int) -> dict[str, Any]:
    with private_redis() as redis_url:
        sample = real_sample(redis_url, SAMPLE_USERS[:max(1, min(sample_users, 4))])
        say(f"memory: real logins {sample['per_user']:.0f} B/user "
            f"(tokens {sample['access_token_len']}/{sample['refresh_token_len']} chars)")
        levels = []
        for n in sizes:
            level = synthetic(redis_url, n, sample)
            levels.append(level)
            say(f"memory: {n} users {level['per_user']:.0f} B/user, with profile "
                f"{level['per_user_with_profile']:.0f} B/user ({level['seconds_to_create']:.0f} s)")
    biggest = levels[-1]
    million = 1_000_000
    projection = {
        "logged_in": biggest["baseline_used_memory"] + biggest["per_user"] * million,
        "all_active_profiles": biggest["baseline_used_memory"]
        + biggest["per_user_with_profile"] * million}
    return {"benchmark": "memory", "machine": machine(), "sample": sample, "levels": levels,
            "projection_1m": projection}


def markdown(result: dict[str, Any]) -> str:
    s = result["sample"]
    rows = [[f"{lv['users']:,} users (store classes)", f"{lv['per_user']:.0f} B",
             f"{lv['per_user_with_profile']:.0f} B",
             f"{(lv['used_memory'] - lv['baseline_used_memory']) / MIB:.1f} MiB",
             f"{(lv['used_memory_with_profiles'] - lv['baseline_used_memory']) / MIB:.1f} MiB"]
            for lv in result["levels"]]
    real_sum = sum(next(iter(s["key_usage"].values())).values())
    rows.append([f"check: {s['users']} real logins (broker + sandbox), used_memory delta", "",
                 f"{s['per_user']:.0f} B", "", f"{s['used_memory_delta'] / 1024:.1f} KiB"])
    rows.append(["check: one real login's keys, sum of MEMORY USAGE", "", f"{real_sum} B", "",
                 ""])
    p = result["projection_1m"]
    rows.append(["1,000,000 users (extrapolated)", "", "",
                 f"{p['logged_in'] / MIB:.0f} MiB", f"{p['all_active_profiles'] / MIB:.0f} MiB"])
    real_keys = s["key_usage"][next(iter(s["key_usage"]))]
    synth_keys = result["levels"][-1]["key_usage"]
    keys = ", ".join(f"{k} {synth_keys[k]} B (real login: {real_keys[k]} B)" for k in synth_keys)
    keys += f"; sum {sum(synth_keys.values())} B (real login: {sum(real_keys.values())} B)"
    return (table(["", "per user: session + grant", "per user: + cached profile",
                   "total: logged in", "total: + cached profiles"], rows)
            + f"\n\nMEMORY USAGE per key: {keys}. Tokens as the sandbox issues them "
            f"(access {s['access_token_len']}, refresh {s['refresh_token_len']} characters); "
            f"synthetic open_ids are 36-character UUIDs (sandbox users' are {s['open_id_len']})."
            f" {machine_line(result['machine'])}")


def main(*, sizes: str, sample: int) -> dict[str, Any]:
    result = run(sizes=[int(n) for n in sizes.split(",")], sample_users=sample)
    path = save("memory", result)
    print(markdown(result))
    print(f"\nraw results: {path}")
    return result
