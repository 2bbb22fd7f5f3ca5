"""The user's TikTok profile: fields limited to the granted scopes, cached briefly in Redis."""

from __future__ import annotations

import json
from typing import Any

import redis
from pydantic import ValidationError

from broker.errors import BadRequest, Forbidden, UpstreamError
from broker.grants import GrantKeeper
from broker.schemas import Profile
from broker.storage.keyspace import user_key
from broker.tiktok import TikTokClient, TikTokGrant

# Which scope each user-info field needs (tiktok-api.md §4, after the 2024 scope migration).
FIELD_SCOPES: dict[str, str] = {
    "open_id": "user.info.basic", "union_id": "user.info.basic",
    "avatar_url": "user.info.basic", "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic", "display_name": "user.info.basic",
    "bio_description": "user.info.profile", "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile", "username": "user.info.profile",
    "follower_count": "user.info.stats", "following_count": "user.info.stats",
    "likes_count": "user.info.stats", "video_count": "user.info.stats",
}


def fields_for(scopes: frozenset[str] | tuple[str, ...], requested: str | None) -> tuple[str, ...]:
    """The fields to ask for: those requested (all must be allowed), else all the scopes allow."""
    if requested is None or not requested.strip():
        return tuple(f for f, scope in FIELD_SCOPES.items() if scope in scopes)
    fields = tuple(dict.fromkeys(f.strip() for f in requested.split(",") if f.strip()))
    unknown = [f for f in fields if f not in FIELD_SCOPES]
    if unknown or not fields:
        raise BadRequest("Unknown profile fields: " + ", ".join(unknown[:10]) + ". Known: "
                         + ", ".join(FIELD_SCOPES) + ".", code="invalid_fields")
    missing = sorted({FIELD_SCOPES[f] for f in fields} - set(scopes))
    if missing:
        raise Forbidden("These fields need scopes the user did not grant: "
                        + ", ".join(missing) + ".", code="scope_not_granted")
    return fields


class ProfileService:
    """`tb:{<tag>}:profile:<open_id>`: a hash of profiles by field set, each the JSON answer
    of `/api/me` (checked against the Profile model before it is kept), dropped `ttl` s after
    creation."""

    def __init__(self, redis_client: redis.Redis, grants: GrantKeeper, tiktok: TikTokClient,
                 ttl: int) -> None:
        self._redis, self._grants, self._tiktok, self._ttl = redis_client, grants, tiktok, ttl

    def cache_slot(self, open_id: str, fields: tuple[str, ...]) -> tuple[str, str] | None:
        """(key, hash field) of the cached answer for these fields; None when caching is off.
        broker.auth.gate reads it in the same round trip as the session check."""
        return (user_key(open_id, "profile"), ",".join(sorted(fields))) if self._ttl else None

    def get(self, open_id: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """The profile with exactly `fields`, from cache when fresh, else from TikTok."""
        if self._ttl:
            cached = self._redis.hget(user_key(open_id, "profile"), ",".join(sorted(fields)))
            if cached is not None:
                profile: dict[str, Any] = json.loads(cached)
                return profile
        user = self._grants.call(open_id, lambda token: self._tiktok.user_info(token, fields))
        return self._keep(open_id, {f: user.get(f) for f in fields})

    def prefetch(self, grant: TikTokGrant, fields: tuple[str, ...]) -> dict[str, Any]:
        """Fetch and cache the profile with a grant just obtained (a login: no need to load it)."""
        user = self._tiktok.user_info(grant.access_token, fields)
        return self._keep(grant.open_id, {f: user.get(f) for f in fields})

    def _keep(self, open_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        try:  # what TikTok sent is checked once, here: the cached JSON is served as it is
            profile = Profile.model_validate(fields).model_dump(mode="json", exclude_unset=True)
        except ValidationError as exc:
            raise UpstreamError("TikTok answered with data of an unexpected shape.",
                                code="tiktok_bad_response") from exc
        name, field_set = user_key(open_id, "profile"), ",".join(sorted(profile))
        if self._ttl:
            pipe = self._redis.pipeline()
            pipe.hset(name, field_set, json.dumps(profile))
            pipe.expire(name, self._ttl, nx=True)  # never extended: entries stay at most ttl old
            pipe.execute()
        return profile

    def forget(self, open_id: str) -> None:
        """Drop the user's cached profiles (logout with revoke, grant removed)."""
        self._redis.delete(user_key(open_id, "profile"))
