"""Login completions per second: the broker's callback end to end, against the sandbox's token
endpoint alone.

    python -m bench login [--quick] [--rounds 3] [--logins 600] [--connections 32]

Before each timed run (untimed): N logins are started through the broker (`GET /login`, one
browser, so one login cookie) and approved at the sandbox (one consent-form POST each), which
gives N fresh callback URLs. wrk then GETs each exactly once: state consumed, code exchanged at
the sandbox, tokens sealed and stored, profile fetched from the sandbox, session created, JWT
signed, 302 to the SPA with `#access_token=`. Success means exactly that redirect.

Baseline: N codes approved the same way for the same redirect URI (own PKCE verifiers), and
wrk POSTs each to the sandbox's /v2/oauth/token/ exactly once: the same exchange without the
broker. The ratio is the broker's cost per login (its own work plus the profile fetch).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from bench.common import (
    Load,
    broker_stack,
    default_workers,
    machine,
    machine_line,
    median,
    private_redis,
    save,
    say,
    table,
    wrk,
)
from tests.support.broker import CLIENT_KEY, CLIENT_SECRET, SCOPES
from tests.support.sandbox import TEST_USERS as USERS


def _approve(http: requests.Session, sandbox_url: str, params: dict[str, str], user: str) -> str:
    """Submit the sandbox's consent form as approved; returns the callback URL."""
    form = [(k, v) for k, v in params.items() if k != "scope"]
    form += [("requested_scope", params["scope"]), ("user", user), ("decision", "approve")]
    form += [("scope", s) for s in params["scope"].split(",")]
    answer = http.post(f"{sandbox_url}/v2/auth/authorize/", data=form, allow_redirects=False,
                       timeout=10)
    assert answer.status_code == 302 and "code=" in answer.headers["Location"], answer.text[:300]
    return str(answer.headers["Location"])


def broker_callbacks(broker_url: str, sandbox_url: str, n: int) -> tuple[list[str], str]:
    """N approved logins started at the broker: callback paths, and the login cookie."""
    browser = requests.Session()
    browser.get(f"{broker_url}/login", allow_redirects=False, timeout=10).raise_for_status()
    cookie = browser.cookies.get("broker_login")
    assert cookie, "no login cookie"

    def one(i: int) -> str:
        http = requests.Session()
        http.cookies.set("broker_login", cookie)
        started = http.get(f"{broker_url}/login", allow_redirects=False, timeout=10)
        assert started.status_code == 302, started.text
        params = dict(parse_qsl(urlsplit(started.headers["Location"]).query))
        back = urlsplit(_approve(http, sandbox_url, params, USERS[i % len(USERS)]))
        return f"{back.path}?{back.query}"

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n))), cookie


def exchange_bodies(sandbox_url: str, redirect_uri: str, n: int) -> list[str]:
    """N approved codes for `redirect_uri` with own PKCE verifiers: token-request form bodies."""
    def one(i: int) -> str:
        verifier = secrets.token_urlsafe(48)
        params = {"client_key": CLIENT_KEY, "response_type": "code", "scope": ",".join(SCOPES),
                  "redirect_uri": redirect_uri, "state": secrets.token_urlsafe(32),
                  "code_challenge": hashlib.sha256(verifier.encode()).hexdigest(),
                  "code_challenge_method": "S256"}
        with requests.Session() as http:
            back = dict(parse_qsl(urlsplit(_approve(http, sandbox_url, params,
                                                    USERS[i % len(USERS)])).query))
        return urlencode({"grant_type": "authorization_code", "code": back["code"],
                          "redirect_uri": redirect_uri, "code_verifier": verifier,
                          "client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET})

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def _run_list(url: str, lines: list[str], load: Load, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(lines) + "\n")
    try:
        # -d only bounds the run; it ends when every line is answered.
        bounded = Load(load.threads, min(load.connections, len(lines)), 90)
        return wrk(url, "list.lua", bounded,
                   {**env, "BENCH_LIST": listing.name, "BENCH_THREADS": str(load.threads)},
                   until_done=True)
    finally:
        os.unlink(listing.name)


def run(*, load: Load, rounds: int, logins: int, workers: int | None = None) -> dict[str, Any]:
    workers = workers or default_workers()
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "broker": []}
    with private_redis() as redis_url, \
            broker_stack(redis_url, workers=workers) as (sandbox, brokers):
        broker = brokers[0]
        for round_no in range(rounds):
            bodies = exchange_bodies(sandbox.url, broker.redirect_uri, logins)
            base = _run_list(sandbox.url, bodies, load, {
                "BENCH_METHOD": "POST", "BENCH_PATH": "/v2/oauth/token/", "BENCH_STATUS": "200",
                "BENCH_EXPECT": '"access_token"'})
            runs["baseline"].append(base)
            paths, cookie = broker_callbacks(broker.url, sandbox.url, logins)
            done = _run_list(broker.url, paths, load, {
                "BENCH_COOKIE": f"broker_login={cookie}", "BENCH_STATUS": "302",
                "BENCH_EXPECT": "#access_token="})
            runs["broker"].append(done)
            for name, result in (("baseline", base), ("broker", done)):
                say(f"login round {round_no + 1}/{rounds} {name}: {result['rps']:.1f}/s, "
                    f"ok {result['ok']}/{logins}, p50 {result['latency_us']['p50'] / 1000:.1f}"
                    f" ms, statuses {result['statuses']}")
            sandbox.reset_log()  # the sandbox keeps a log of every request; keep it small
    for name, results in runs.items():
        bad = [r["statuses"] for r in results if r["ok"] != logins]
        if bad:
            raise RuntimeError(f"{name}: not every login succeeded: {bad}")
    summary = {name: {"rps": median([r["rps"] for r in rs]),
                      "p50_us": median([r["latency_us"]["p50"] for r in rs]),
                      "p99_us": median([r["latency_us"]["p99"] for r in rs])}
               for name, rs in runs.items()}
    per_login_ms = 1000 / summary["broker"]["rps"] - 1000 / summary["baseline"]["rps"]
    return {"benchmark": "login", "logins_per_run": logins, "rounds": rounds,
            "load": f"wrk -t{load.threads} -c{min(load.connections, logins)}, "
                    f"{logins} logins per run", "workers": workers, "machine": machine(),
            "runs": runs, "summary": summary,
            "ratio": summary["broker"]["rps"] / summary["baseline"]["rps"],
            "extra_ms_per_login_at_load": per_login_ms}


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    rows = [["broker: `GET /auth/callback` end to end", f"{s['broker']['rps']:.0f}",
             f"{s['broker']['p50_us'] / 1000:.1f} ms", f"{s['broker']['p99_us'] / 1000:.1f} ms",
             f"**{result['ratio']:.2f}**"],
            ["baseline: sandbox `POST /v2/oauth/token/` alone", f"{s['baseline']['rps']:.0f}",
             f"{s['baseline']['p50_us'] / 1000:.1f} ms",
             f"{s['baseline']['p99_us'] / 1000:.1f} ms", "1.00"]]
    return (table(["", "logins/s (median)", "p50", "p99", "broker / baseline"], rows)
            + f"\n\n{result['load']}, {result['rounds']} interleaved rounds, "
            f"{result['workers']} workers x 8 threads; {machine_line(result['machine'])}")


def main(*, load: Load, rounds: int, logins: int) -> dict[str, Any]:
    result = run(load=load, rounds=rounds, logins=logins)
    path = save("login", result)
    print(markdown(result))
    print(f"\nraw results: {path}")
    return result
