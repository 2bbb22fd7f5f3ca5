"""`python -m broker service-keys create|list|revoke`: the app backend's keys, in the broker's
Redis (`REDIS_URL`). A new key is printed once and never again."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

import redis

from broker.accounts.keys import SCOPES, ServiceKey, ServiceKeyStore
from broker.clock import SystemClock
from broker.config.settings import Settings
from broker.storage.connection import connect


def service_keys(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run one service-keys command; 0 on success, 1 on a refusal, 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="python -m broker service-keys")
    commands = parser.add_subparsers(dest="action", required=True)
    create = commands.add_parser("create", help="make a key and print it (once)")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help="comma-separated: " + ",".join(SCOPES))
    create.add_argument("--days", type=float, default=365.0,
                        help="lifetime in days, fractions allowed (default 365)")
    commands.add_parser("list", help="id, name, scopes, created and expiry of every live key")
    revoke = commands.add_parser("revoke", help="end a key now, on every replica")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    try:
        # Only the broker's Redis is needed: REDIS_URL, as the broker reads it.
        url = os.environ.get("REDIS_URL") or Settings.redis_url
        store = ServiceKeyStore(connect(url), SystemClock())
        if args.action == "create":
            scopes = tuple(s.strip() for s in args.scopes.split(",") if s.strip())
            key, secret = store.create(args.name, scopes, args.days)
            print(secret, file=out)
            print(f"id {key.key_id}, expires {_when(key.expires_at)}; store it now: it is not "
                  "shown again", file=err)
            return 0
        if args.action == "list":
            print("id\tname\tscopes\tcreated\texpires", file=out)
            for key in store.listing():
                print(_row(key), file=out)
            return 0
        if store.revoke(args.key_id):
            print(f"revoked {args.key_id}", file=out)
            return 0
        print(f"no live key {args.key_id!r}", file=err)
        return 1
    except ValueError as exc:
        print(exc, file=err)
        return 1
    except redis.exceptions.RedisError as exc:
        print(f"Redis unavailable: {type(exc).__name__}", file=err)
        return 1


def _row(key: ServiceKey) -> str:
    return "\t".join((key.key_id, key.name, ",".join(sorted(key.scopes)),
                      _when(key.created_at), _when(key.expires_at)))


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
