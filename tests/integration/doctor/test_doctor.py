"""`python -m broker doctor` against the sandbox, once set up right and once per mistake.

The setup is what going live looks like: a broker behind an https proxy (TLS, one
X-Forwarded-For hop, TRUSTED_PROXIES=1) whose callback URL is registered at the sandbox.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from broker.config.settings import Settings
from broker.doctor.findings import FAIL, OK, WARN
from broker.doctor.run import diagnose
from tests.support.broker import start_broker
from tests.support.processes import free_port
from tests.support.sandbox import ROOT, start_sandbox
from tests.support.tls_proxy import TlsProxy

CHECKS = ["credentials", "sandbox_audited", "authorize", "scopes", "callback",
          "verification_files", "webhook", "clock", "trusted_proxies"]
FILE = ("tiktokAbC123.txt", "tiktok-developers-site-verification=AbC123")


@pytest.fixture(scope="module")
def setup(redis_url):
    """Sandbox, broker on a free port, an https proxy (and one not routing webhooks) in front."""
    with start_sandbox() as sandbox:
        port = free_port()
        proxy = TlsProxy(f"http://127.0.0.1:{port}")
        partial = TlsProxy(f"http://127.0.0.1:{port}", blocked=("/webhooks/",),
                           same_cert_as=proxy)
        callback = f"{proxy.url}/auth/callback"
        sandbox.configure(redirect_uris=[callback, f"{partial.url}/auth/callback"])
        env = {"TIKTOK_REDIRECT_URI": callback, "TRUSTED_PROXIES": "1",
               "TIKTOK_SCOPES": "user.info.basic,video.publish,video.list",
               "TIKTOK_VERIFICATION_FILES": "=".join(FILE)}
        broker = start_broker(sandbox_url=sandbox.url, redis_url=redis_url, port=port, env=env)
        yield sandbox, broker, proxy, partial
        broker.stop()
        partial.stop()
        proxy.stop()


@pytest.fixture
def doctor(setup, monkeypatch):
    """Run the doctor in-process with the broker's environment plus `overrides`."""
    sandbox, broker, proxy, _ = setup
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(proxy.cert_path))
    sandbox.reset_log()

    def run(**overrides):
        env = {k: v for k, v in {**broker.env, **overrides}.items() if v != ""}
        return {f.check: f for f in diagnose(Settings.from_env(env))}
    yield run
    sandbox.configure(approved_scopes=[])


def test_a_correct_setup_passes_every_check(setup):
    sandbox, broker, proxy, _ = setup
    env = {**broker.env, "REQUESTS_CA_BUNDLE": str(proxy.cert_path)}
    done = subprocess.run([sys.executable, "-m", "broker", "doctor"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for check in CHECKS:
        assert any(line.startswith(f"[ ok ] {check}:") for line in lines), done.stdout
    assert "0 problem(s), 0 warning(s)." in done.stdout
    assert broker.env["TIKTOK_CLIENT_SECRET"] not in done.stdout + done.stderr
    calls = sandbox.requests(endpoint="token", grant_type="client_credentials")
    assert calls and calls[-1]["status"] == 200


def test_a_wrong_secret(doctor):
    found = doctor(TIKTOK_CLIENT_SECRET="not-the-secret")
    assert found["credentials"].level == FAIL and "invalid_client" in found["credentials"].summary
    assert "TIKTOK_CLIENT_SECRET" in found["credentials"].fix
    assert found["authorize"].level == OK  # the rest is judged on its own


def test_a_sandbox_key_marked_audited(doctor):
    found = doctor(TIKTOK_AUDITED="true")
    assert found["sandbox_audited"].level == FAIL
    assert "TIKTOK_AUDITED=false" in found["sandbox_audited"].fix


def test_a_redirect_uri_not_registered(doctor, setup):
    unregistered = f"{setup[2].url}/auth/callback/"  # a trailing slash is another URI (§1.4)
    found = doctor(TIKTOK_REDIRECT_URI=unregistered)
    assert found["authorize"].level == FAIL and "`redirect_uri`" in found["authorize"].summary
    assert unregistered in found["authorize"].fix
    assert found["scopes"].level == WARN  # not judged while authorize fails first


def test_pkce_off_where_tiktok_wants_it(doctor):
    found = doctor(TIKTOK_PKCE="off")
    assert found["authorize"].level == FAIL
    assert "`code_challenge`" in found["authorize"].summary
    assert "TIKTOK_PKCE=hex" in found["authorize"].fix


def test_a_scope_the_app_may_not_ask_for(doctor, setup):
    setup[0].configure(approved_scopes=["user.info.basic", "video.publish", "video.upload"])
    found = doctor()
    assert found["authorize"].level == FAIL and "`scope`" in found["authorize"].summary
    assert found["scopes"].level == FAIL
    assert found["scopes"].summary.endswith("for this app: video.list.")


def test_a_misspelt_scope(doctor):
    found = doctor(TIKTOK_SCOPES="user.info.basic,video.lists")
    assert found["scopes"].level in (WARN, FAIL) and "video.lists" in found["scopes"].summary


def test_a_callback_url_nothing_answers(doctor, setup):
    dead = f"https://127.0.0.1:{free_port()}/auth/callback"
    setup[0].configure(redirect_uris=[*setup[0].config()["redirect_uris"], dead])
    found = doctor(TIKTOK_REDIRECT_URI=dead)
    assert found["callback"].level == FAIL and "cannot be reached" in found["callback"].summary
    assert found["webhook"].level == FAIL


def test_a_callback_url_over_http(doctor, setup):
    direct = setup[1].url + "/auth/callback"
    setup[0].configure(redirect_uris=[*setup[0].config()["redirect_uris"], direct])
    found = doctor(TIKTOK_REDIRECT_URI=direct, TRUSTED_PROXIES="0")
    assert found["callback"].level == WARN and "https" in found["callback"].summary
    assert found["trusted_proxies"].level == OK  # no proxy in front, none trusted


def test_a_verification_file_not_served(doctor):
    found = doctor(TIKTOK_VERIFICATION_FILES="tiktokZZZ.txt=tiktok-developers-site-verification=Z")
    assert found["verification_files"].level == FAIL
    assert "tiktokZZZ.txt (HTTP 404)" in found["verification_files"].summary


def test_a_webhook_url_the_proxy_does_not_route(doctor, setup):
    found = doctor(TIKTOK_REDIRECT_URI=f"{setup[3].url}/auth/callback")
    assert found["callback"].level == OK
    assert found["webhook"].level == FAIL and "HTTP 404" in found["webhook"].summary


def test_a_clock_off_tiktoks(doctor, setup):
    setup[0].advance_clock(-600)  # TikTok's Date says ten minutes earlier: ours runs ahead
    try:
        found = doctor()
    finally:
        setup[0].advance_clock(600)
    assert found["clock"].level == FAIL
    assert re.search(r"clock is \+(599|600|601) s off", found["clock"].summary)


@pytest.mark.parametrize(("trusted", "advice"), [("0", "TRUSTED_PROXIES=1"),
                                                 ("2", "TRUSTED_PROXIES=1")])
def test_trusted_proxies_not_matching_the_proxies_in_front(doctor, trusted, advice):
    found = doctor(TRUSTED_PROXIES=trusted)
    assert found["trusted_proxies"].level == FAIL and advice in found["trusted_proxies"].fix


def test_the_doctor_never_prints_the_secret_even_when_refused(setup):
    _, broker, proxy, _ = setup
    env = {**broker.env, "TIKTOK_CLIENT_SECRET": "wrong-secret-value-0123456789",
           "REQUESTS_CA_BUNDLE": str(proxy.cert_path)}
    done = subprocess.run([sys.executable, "-m", "broker", "doctor"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "[FAIL] credentials:" in done.stdout
    assert "wrong-secret-value" not in done.stdout + done.stderr
    assert os.environ.get("REQUESTS_CA_BUNDLE") != str(proxy.cert_path)
