"""Run the request benchmarks, each against a baseline measured in the same run.

    python -m bench all                 # every benchmark below, one after the other
    python -m bench me-cached           # cached GET /api/me vs a bare Flask endpoint
    python -m bench me-uncached         # uncached GET /api/me vs Flask forwarding to the sandbox
    python -m bench login               # login completions/s vs the sandbox's token endpoint
    python -m bench refresh             # POST /auth/refresh vs one round trip + JWT signing
    python -m bench refresh-storm       # 50 concurrent requests, expired token, two replicas
    python -m bench memory              # Redis memory per logged-in user, 10k and 100k
    python -m bench <name> --quick      # a tiny run (about a second per measurement)

Raw results go to bench/results/<name>-<time>.json (git-ignored); each prints a Markdown
table. The upload benchmark is separate: python -m bench.upload_bench; so is the posting one
(source_url, scheduled posts through one worker): python -m bench.posting_bench.
"""

from __future__ import annotations

import argparse
import time

from bench.common import Load, say, use_source

NAMES = ("me-cached", "me-uncached", "login", "refresh", "refresh-storm", "memory")


def run_one(name: str, args: argparse.Namespace) -> None:
    load = Load(args.threads, args.connections, args.seconds)
    if name in ("me-cached", "me-uncached"):
        from bench import me
        me.main(name.removeprefix("me-"), load=load, rounds=args.rounds, quick=args.quick)
    elif name == "login":
        from bench import login
        login.main(load=load, rounds=args.rounds, logins=args.logins)
    elif name == "refresh":
        from bench import refresh
        refresh.main(load=load, rounds=args.rounds, quick=args.quick)
    elif name == "refresh-storm":
        from bench import storm
        storm.main(rounds=args.storm_rounds, concurrency=args.concurrency)
    elif name == "memory":
        from bench import memory
        memory.main(sizes=args.sizes, sample=args.sample)
    else:
        raise SystemExit(f"unknown benchmark {name!r}; choose from all, {', '.join(NAMES)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=("all", *NAMES))
    parser.add_argument("--quick", action="store_true",
                        help="tiny run: 1 s, 1 round, few logins, small memory sizes")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per pair")
    parser.add_argument("--seconds", type=float, default=10, help="wrk -d per run")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--logins", type=int, default=600, help="login completions per run")
    parser.add_argument("--storm-rounds", type=int, default=5,
                        help="refresh storm: rounds of each kind (fresh, expired)")
    parser.add_argument("--concurrency", type=int, default=50, help="refresh storm requests")
    parser.add_argument("--sizes", default="10000,100000", help="memory: sessions to create")
    parser.add_argument("--sample", type=int, default=4,
                        help="memory: real logins (one per sandbox user) to check the figure")
    parser.add_argument("--source", default="HEAD",
                        help="git revision of the broker to measure (exported clean), or '.' "
                             "for the working tree as it is")
    args = parser.parse_args(argv)
    use_source(args.source)
    if args.quick:
        args.rounds, args.seconds, args.logins, args.storm_rounds = 1, 1, 40, 1
        args.sizes, args.sample = "200,1000", 2
    names = NAMES if args.name == "all" else (args.name,)
    for name in names:
        started = time.monotonic()
        print(f"\n### {name}\n", flush=True)
        run_one(name, args)
        say(f"{name} took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
