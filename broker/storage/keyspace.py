"""The keyspace: every Redis key the broker writes, under one prefix, each with a TTL.

Key prefixes (every key has a TTL; secrets appear only as SHA-256 digests, values holding
secrets are encrypted by the Vault):

    tb:tx:<sha256(state)>           OAuth transaction (hash: binding digest + sealed payload)
    tb:grant:<open_id>              the user's TikTok tokens, sealed
    tb:lock:refresh:<open_id>       per-user refresh lock (lease)
    tb:{<tag>}:sess:<sid>           a login session (hash); <tag> = user_tag(open_id), which the
                                    session id starts with (`<tag>-<random>`)
    tb:{<tag>}:user-sessions:<open_id>  set of the user's session ids
    tb:login-code:<sha256(code)>    handoff login code -> session id
    tb:{<tag>}:profile:<open_id>    cached profiles (hash: field set -> response JSON)
    tb:creator:<open_id>            cached creator info (JSON, 30 s)
    tb:publish:<publish_id>         a post: owner, chunk plan, sealed upload_url, status (hash)
    tb:upload-lock:<publish_id>     one upload at a time per post (lease, renewed per chunk)
    tb:budget:<endpoint>:<open_id>  calls in TikTok's per-token minute window (sorted set)
    tb:videos:<open_id>             cached Display API answers (hash: request digest -> JSON, 60 s,
                                    each answer gone a minute before its first cover URL dies)
    tb:tiktok-budget:<endpoint>     the app's calls in TikTok's per-app minute window (sorted set)
    tb:webhook:<sha256(body)>       a webhook delivery already applied (73 h, dedupe)
    tb:idem:<sha256(caller, key)>   an Idempotency-Key: body digest, lease, answer (24 h)
    tb:post:<post_id>               a scheduled post, its media sealed (POST_RECORD_DAYS)
    tb:posts:<open_id>              the caller's post ids by creation time (POST_RECORD_DAYS)
    tb:post-of:<publish_id>         the post that started a TikTok publish_id (POST_RECORD_DAYS)
    tb:app-event:<webhook-id>       an event body awaiting delivery to the app (3 days)
    rq:...                          RQ's own queues, jobs and registries (broker.jobs.queue);
                                    RQ manages their lifetimes (jobs expire, queues stay)
    tb:svc-key:<id>                 a service key: name, scopes, digest of its secret (expires
                                    with the key; broker.accounts.keys)
    tb:svc-keys                     live service key ids by expiry (sorted set)
    tb:connect:<sha256(token)>      a connect link, sealed (at most 10 min)
    tb:account:<open_id>            a connected account: status, scopes, name (400 days)
    tb:account-users:<open_id>      the app users holding it (set, 400 days)
    tb:app-user:<app_user_id>       the app user's accounts (hash: account -> connected at)
    tb:rl:LIMITER/<who>/<scope>/... inbound rate-limit window (`limits`, broker.web.ratelimits;
                                    who = ip:<addr> or user:<open_id>; TTL = the limit's period)
    tb:{<tag>}:rl-api:<limit>:<open_id>:<n>  a signed-in user's API calls in window n of a
                                    limit (broker.auth.gate's sliding window counter; TTL = two
                                    windows)

`{<tag>}` is a Redis Cluster hash tag: the keys an authenticated call reads (session, rate
window, cached profile) share one slot, so one server-side script reads them in one round trip.
"""

from __future__ import annotations

import functools
import hashlib

PREFIX = "tb:"


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored or looked up (never the secret)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def redis_key(*parts: str) -> str:
    """A namespaced Redis key, e.g. redis_key("sess", sid) -> "tb:sess:<sid>"."""
    return PREFIX + ":".join(parts)


@functools.lru_cache(maxsize=4096)  # asked on every signed-in call, for a few active users
def user_tag(open_id: str) -> str:
    """The hash tag of a user's keys: 12 hex digits of a digest of their open_id."""
    return hashlib.sha256(open_id.encode("utf-8")).hexdigest()[:12]


def user_key(open_id: str, kind: str) -> str:
    """A key in the user's slot: user_key(oid, "profile") -> "tb:{<tag>}:profile:<open_id>"."""
    return f"{PREFIX}{{{user_tag(open_id)}}}:{kind}:{open_id}"


def session_key(session_id: str) -> str:
    """A session's key, in its user's slot: the session id starts with the user's tag."""
    return f"{PREFIX}{{{session_id.partition('-')[0]}}}:sess:{session_id}"
