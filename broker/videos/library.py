"""The user's videos: fields checked against the granted scope, answers cached briefly per account.

`tb:videos:<open_id>` is a hash of answers by request (kind, fields, cursor or ids), dropped at
most `ttl` seconds after it is created. Each answer also carries its own deadline, never later
than `COVER_MARGIN` seconds before the earliest `cover_image_url` in it expires, so a cached
answer never hands out a dead cover link. Every call to TikTok first takes its place in the
app-wide budget (broker.videos.budget).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import redis

from broker.clock import Clock
from broker.errors import BadRequest, Forbidden
from broker.grants import GrantKeeper
from broker.storage.keyspace import digest, redis_key
from broker.tiktok.display import SCOPE, VIDEO_FIELDS, Display, cover_expiry
from broker.videos.budget import AppBudget

CACHE_TTL = 60  # seconds an answer may be reused
COVER_MARGIN = 60  # a cached answer is dropped this long before its first cover URL dies


def fields_for(scopes: frozenset[str] | tuple[str, ...],
               requested: str | Sequence[str] | None) -> tuple[str, ...]:
    """The video fields to ask for: those requested (all known), else every field."""
    if SCOPE not in scopes:
        raise Forbidden("Listing videos needs the video.list permission, which this login did "
                        "not grant.", code="scope_not_granted")
    names = requested.split(",") if isinstance(requested, str) else list(requested or ())
    fields = tuple(dict.fromkeys(f.strip() for f in names if f.strip()))
    if not fields:
        return VIDEO_FIELDS
    unknown = [f for f in fields if f not in VIDEO_FIELDS]
    if unknown:
        raise BadRequest("Unknown video fields: " + ", ".join(unknown[:10]) + ". Known: "
                         + ", ".join(VIDEO_FIELDS) + ".", code="invalid_fields")
    return fields


class VideoLibrary:
    """Lists and queries a user's videos through TikTok, within the app's budget, cached."""

    def __init__(self, redis_client: redis.Redis, grants: GrantKeeper, display: Display,
                 budget: AppBudget, clock: Clock, ttl: int = CACHE_TTL) -> None:
        self._redis, self._grants, self._display = redis_client, grants, display
        self._budget, self._clock, self._ttl = budget, clock, ttl

    def page(self, open_id: str, fields: tuple[str, ...], cursor: int | None,
             max_count: int) -> dict[str, Any]:
        """`{"videos", "cursor", "has_more"}`: one page of the user's public videos."""
        def fetch(token: str) -> dict[str, Any]:
            self._budget.spend("video_list")
            found = self._display.list_videos(token, fields, cursor, max_count)
            return {"videos": found.videos, "cursor": found.cursor, "has_more": found.has_more}
        return self._answer(open_id, ["list", sorted(fields), cursor, max_count], fetch)

    def query(self, open_id: str, fields: tuple[str, ...],
              video_ids: Sequence[str]) -> dict[str, Any]:
        """`{"videos"}`: those of the ids that are the user's own videos."""
        ids = list(dict.fromkeys(video_ids))

        def fetch(token: str) -> dict[str, Any]:
            self._budget.spend("video_query")
            return {"videos": self._display.query_videos(token, fields, ids)}
        return self._answer(open_id, ["query", sorted(fields), sorted(ids)], fetch)

    def forget(self, open_id: str) -> None:
        """Drop the user's cached answers (logout with revoke, grant removed)."""
        self._redis.delete(redis_key("videos", open_id))

    def _answer(self, open_id: str, request: list[Any],
                fetch: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        name, entry = redis_key("videos", open_id), digest(json.dumps(request))
        now = self._clock.now()
        if self._ttl:
            cached = self._redis.hget(name, entry)
            if cached is not None:
                kept: dict[str, Any] = json.loads(cached)
                if kept.get("until", 0) > now:
                    answer: dict[str, Any] = kept["answer"]
                    return answer
        answer = self._grants.call(open_id, fetch)
        until = min([now + self._ttl] + [cover_expiry(v["cover_image_url"], now) - COVER_MARGIN
                                         for v in answer["videos"]
                                         if isinstance(v.get("cover_image_url"), str)])
        if self._ttl and until > now:
            pipe = self._redis.pipeline()
            pipe.hset(name, entry, json.dumps({"until": until, "answer": answer}))
            pipe.expire(name, self._ttl, nx=True)  # never extended: entries stay at most ttl old
            pipe.execute()
        return answer
