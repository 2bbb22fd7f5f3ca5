"""The Redis connection and the key layout: the broker's only state, shared by every replica.

Key prefixes (every key has a TTL; secrets appear only as SHA-256 digests, values holding
secrets are encrypted by the Vault):

    tb:tx:<sha256(state)>           OAuth transaction (hash: binding digest + sealed payload)
    tb:grant:<open_id>              the user's TikTok tokens, sealed
    tb:lock:refresh:<open_id>       per-user refresh lock (lease)
    tb:sess:<sid>                   a login session (hash)
    tb:user-sessions:<open_id>      set of the user's session ids
    tb:login-code:<sha256(code)>    handoff login code -> session id
    tb:profile:<open_id>            cached profiles (hash: field set -> JSON)
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from redis.sentinel import Sentinel

PREFIX = "tb:"


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored or looked up (never the secret)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key(*parts: str) -> str:
    """A namespaced Redis key, e.g. key("sess", sid) -> "tb:sess:<sid>"."""
    return PREFIX + ":".join(parts)


def connect(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """A pooled client for `redis://`, `rediss://`, `unix://` or `redis+sentinel://` URLs.

    Short socket timeouts make an unreachable Redis a fast 503 rather than a hung worker; the
    pool reconnects on its own when Redis comes back.
    """
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
               "health_check_interval": 15, "decode_responses": True}
    if url.startswith("redis+sentinel://"):
        return _sentinel_client(url, options)
    return redis.Redis.from_url(url, **options)


def _sentinel_client(url: str, options: dict[str, Any]) -> redis.Redis:
    """`redis+sentinel://host:port[,host:port]/<service>[/<db>][?password=...]`."""
    parts = urlsplit(url)
    hosts = []
    for item in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = item.partition(":")
        hosts.append((host, int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    service = path[0] if path else "mymaster"
    db = int(path[1]) if len(path) > 1 else 0
    query = parse_qs(parts.query)
    password = query.get("password", [None])[0] or parts.password
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts, sentinel_kwargs={"socket_timeout": options["socket_timeout"]},
        password=password, db=db, **options)
    master: redis.Redis = sentinel.master_for(service)  # type: ignore[no-untyped-call]
    return master
