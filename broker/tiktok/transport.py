"""How the broker's HTTP sessions to TikTok take the process environment: once, at start-up.

requests reads the environment again on every call of a session that trusts it (trust_env):
each of HTTP(S)_PROXY, NO_PROXY and friends, in both cases, by walking all of os.environ, plus
~/.netrc for credentials to attach: under a profiler, a visible share of the login callback's
own CPU, though too small for wrk to tell apart from noise (docs/BENCHMARKS.md, #14). The same
settings are read here once for TikTok's API URL, so a proxy (or NO_PROXY) set for the broker
still applies, and a ~/.netrc never adds credentials to a request to TikTok.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from requests.utils import get_environ_proxies

S = TypeVar("S", bound=requests.Session)


@dataclass(frozen=True)
class Environment:
    """What requests would have taken from the environment for one base URL."""

    proxies: dict[str, str] = field(default_factory=dict)
    verify: bool | str = True

    @classmethod
    def read(cls, url: str) -> Environment:
        """The proxies for `url` (after NO_PROXY) and the CA bundle requests would use."""
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        return cls(dict(get_environ_proxies(url)), bundle or True)

    def apply(self, session: S) -> S:
        """`session` with these settings and no further look at the environment."""
        session.trust_env = False
        session.proxies.update(self.proxies)
        session.verify = self.verify
        return session
