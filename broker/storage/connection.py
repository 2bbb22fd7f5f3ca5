"""The Redis connection: `redis://`, `rediss://`, `unix://` or `redis+sentinel://`, pooled,
with short timeouts and no retries (the key layout is in broker.storage.keyspace).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel


def connect(url: str, *, timeout: float = 2.0, decode_responses: bool = True) -> redis.Redis:
    """A pooled client for `redis://`, `rediss://`, `unix://` or `redis+sentinel://` URLs.

    Short socket timeouts make an unreachable Redis a fast 503 rather than a hung worker; the
    pool reconnects on its own when Redis comes back.
    """
    options: dict[str, Any] = {
        "socket_timeout": timeout, "socket_connect_timeout": timeout,
        "health_check_interval": 15, "decode_responses": decode_responses,
        # No retries, whatever redis-py's default of the day: a retry multiplies the time a
        # request waits on a dead Redis, and re-sending a write whose reply was lost could
        # apply it twice (a refresh-cookie rotation would then look like a replay).
        "retry": _no_retry()}
    if url.startswith("redis+sentinel://"):
        return _sentinel_client(url, options)
    return redis.Redis.from_url(url, **options)


def _no_retry() -> Retry:
    return Retry(NoBackoff(), 0)


def _sentinel_client(url: str, options: dict[str, Any]) -> redis.Redis:
    """`redis+sentinel://[[user]:password@]host:port[,host:port]/<service>[/<db>][?...]`.

    The userinfo (or `?password=`) authenticates to the Redis servers; `?sentinel_password=`
    (and `?sentinel_username=`) to the sentinels themselves, when they require it. The client
    asks the sentinels for the primary whenever it opens a connection, so after a failover it
    finds the new primary by itself; a connection still open to a demoted primary answers
    READONLY, which redis-py turns into a reconnect (and this request into a 503).
    """
    parts = urlsplit(url)
    hosts = []
    for item in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = item.partition(":")
        hosts.append((host, int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    service = path[0] if path else "mymaster"
    db = int(path[1]) if len(path) > 1 else 0
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    password = query.get("password") or (unquote(parts.password) if parts.password else None)
    username = unquote(parts.username) if parts.username else None
    # The sentinels get the same short timeouts and no retries: a dead sentinel in the list
    # costs one refused connection, not redis-py's default backoff of several seconds.
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": options["socket_timeout"],
        "socket_connect_timeout": options["socket_connect_timeout"],
        "retry": _no_retry(), "decode_responses": True}
    if query.get("sentinel_password"):
        sentinel_kwargs.update(password=query["sentinel_password"],
                               username=query.get("sentinel_username") or None)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts, sentinel_kwargs=sentinel_kwargs, password=password, username=username, db=db,
        **options)
    master: redis.Redis = sentinel.master_for(service)  # type: ignore[no-untyped-call]
    return master
