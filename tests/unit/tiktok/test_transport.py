"""broker.tiktok.transport: the environment's proxy and CA settings, read once for TikTok."""

from __future__ import annotations

import requests

from broker.tiktok.transport import Environment


def test_a_proxy_in_the_environment_still_applies(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://egress.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = Environment.read("https://open.tiktokapis.com").apply(requests.Session())
    assert session.proxies["https"] == "http://egress.internal:3128"
    assert session.trust_env is False  # and the environment is not read again per call


def test_no_proxy_is_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://egress.internal:3128")
    monkeypatch.setenv("NO_PROXY", "open.tiktokapis.com")
    assert Environment.read("https://open.tiktokapis.com").proxies == {}


def test_the_ca_bundle_of_the_environment_is_kept(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/internal-ca.pem")
    session = Environment.read("https://open.tiktokapis.com").apply(requests.Session())
    assert session.verify == "/etc/ssl/internal-ca.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert Environment.read("https://open.tiktokapis.com").verify is True


def test_netrc_credentials_are_never_attached(monkeypatch, tmp_path):
    (tmp_path / ".netrc").write_text("machine open.tiktokapis.com login me password secret\n")
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    session = Environment.read("https://open.tiktokapis.com").apply(requests.Session())
    prepared = session.prepare_request(requests.Request("GET", "https://open.tiktokapis.com/x"))
    assert "Authorization" not in prepared.headers
    trusting = requests.Session()  # what a session that trusts the environment would send
    assert "Authorization" in trusting.prepare_request(
        requests.Request("GET", "https://open.tiktokapis.com/x")).headers
