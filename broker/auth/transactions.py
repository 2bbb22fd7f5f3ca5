"""OAuth transactions: what /login must remember until TikTok redirects back (10 minutes).

Stored under the state's digest, bound to the browser that started it (the digest of its
login cookie), sealed (the PKCE verifier is a secret), and consumed atomically: one use only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import redis

from broker.storage.keyspace import digest, redis_key
from broker.storage.vault import Vault, VaultError

# Check the browser binding and delete in one step: a replayed or raced state finds nothing.
_CONSUME = """
local binding = redis.call('HGET', KEYS[1], 'b')
if not binding then return false end
if binding ~= ARGV[1] then return 'mismatch' end
local sealed = redis.call('HGET', KEYS[1], 'v')
redis.call('DEL', KEYS[1])
return sealed
"""


@dataclass(frozen=True)
class OAuthTransaction:
    return_to: str
    code_verifier: str | None = field(default=None, repr=False)
    nonce: str | None = field(default=None, repr=False)  # the SPA's, echoed in the fragment
    app_user_id: str | None = None  # a connect session's (broker.accounts): link, no login


class StateError(Exception):
    """The callback's state is missing, unknown, expired, used, or from another browser."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class TransactionStore:
    def __init__(self, redis_client: redis.Redis, vault: Vault, ttl: int) -> None:
        self._redis, self._vault, self.ttl = redis_client, vault, ttl
        self._consume = redis_client.register_script(_CONSUME)

    def begin(self, state: str, browser_binding: str, transaction: OAuthTransaction) -> None:
        """Remember the transaction for `ttl` seconds under the state's digest."""
        name = redis_key("tx", digest(state))
        sealed = self._vault.encrypt(json.dumps(asdict(transaction)).encode(), _context(state))
        pipe = self._redis.pipeline()
        pipe.hset(name, mapping={"b": digest(browser_binding), "v": sealed})
        pipe.expire(name, self.ttl)
        pipe.execute()

    def consume(self, state: str, browser_binding: str) -> OAuthTransaction:
        """Take the transaction (single use); raise StateError if it cannot be taken."""
        if not state or len(state) > 512:
            raise StateError("The login request has no valid state.")
        if not browser_binding:
            raise StateError("This login was not started in this browser.")
        result = self._consume(keys=[redis_key("tx", digest(state))],
                               args=[digest(browser_binding)])
        if result is None:
            raise StateError("The login request is unknown, expired or already used.")
        if result == "mismatch":
            raise StateError("This login was not started in this browser.")
        try:
            fields = json.loads(self._vault.decrypt(str(result), _context(state)))
        except VaultError as exc:
            raise StateError("The login request cannot be read.") from exc
        return OAuthTransaction(**fields)


def _context(state: str) -> str:
    return "tx:" + digest(state)
