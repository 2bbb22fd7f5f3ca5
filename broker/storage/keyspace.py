"""The keyspace: every Redis key the broker writes, under one prefix, each with a TTL.

Key prefixes (every key has a TTL; secrets appear only as SHA-256 digests, values holding
secrets are encrypted by the Vault):

    tb:tx:<sha256(state)>           OAuth transaction (hash: binding digest + sealed payload)
    tb:grant:<open_id>              the user's TikTok tokens, sealed
    tb:lock:refresh:<open_id>       per-user refresh lock (lease)
    tb:sess:<sid>                   a login session (hash)
    tb:user-sessions:<open_id>      set of the user's session ids
    tb:login-code:<sha256(code)>    handoff login code -> session id
    tb:profile:<open_id>            cached profiles (hash: field set -> JSON)
    tb:creator:<open_id>            cached creator info (JSON, 30 s)
    tb:publish:<publish_id>         a post: owner, chunk plan, sealed upload_url, status (hash)
    tb:upload-lock:<publish_id>     one upload at a time per post (lease, renewed per chunk)
    tb:budget:<endpoint>:<open_id>  calls in TikTok's per-token minute window (sorted set)
    tb:webhook:<sha256(body)>       a webhook delivery already applied (73 h, dedupe)
    tb:rl:LIMITER/<who>/<scope>/... inbound rate-limit window (`limits`, broker.web.ratelimits;
                                    who = ip:<addr> or user:<open_id>; TTL = the limit's period)
"""

from __future__ import annotations

import hashlib

PREFIX = "tb:"


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored or looked up (never the secret)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def redis_key(*parts: str) -> str:
    """A namespaced Redis key, e.g. redis_key("sess", sid) -> "tb:sess:<sid>"."""
    return PREFIX + ":".join(parts)
