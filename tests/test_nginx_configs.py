"""The nginx configurations the Docker stack ships, run by a real nginx (Debian's, the same
directives as the images' nginx): the proxy in front of the broker (slow clients, body limits,
connections per client, forwarded headers, JSON refusals) and the SPA's security headers."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx not installed "
                                "(scripts/test installs it)")


def render(template: Path, values: dict[str, str]) -> str:
    """What the images' envsubst step makes of a template: only the given variables."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    assert not re.search(r"\$\{[A-Z_]+\}", text), "a variable was left unfilled"
    return text


class Nginx:
    """nginx running one rendered server configuration from a private prefix."""

    def __init__(self, tmp: Path, server_conf: str) -> None:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (tmp / sub).mkdir(exist_ok=True)
        (tmp / "server.conf").write_text(server_conf)
        # As root, nginx's workers would run as nobody, who cannot read pytest's private folders.
        user = "user root;" if os.geteuid() == 0 else ""
        (tmp / "nginx.conf").write_text(f"""
            {user} daemon off; worker_processes 1; pid {tmp}/nginx.pid;
            error_log {tmp}/logs/error.log;
            events {{ worker_connections 1024; }}
            http {{
                include /etc/nginx/mime.types;
                access_log {tmp}/logs/access.log;
                client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
                fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi;
                scgi_temp_path {tmp}/scgi;
                include {tmp}/server.conf;
            }}""")
        checked = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                                 capture_output=True, text=True, timeout=20)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait(self, url: str) -> None:
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"nginx did not answer at {url}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# --- the proxy in front of the broker ------------------------------------------------------------

@pytest.fixture(scope="module")
def proxied(broker_factory, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(proxy URL, broker URL): the compose proxy's template in front of a real broker."""
    broker = broker_factory(workers=1, GUNICORN_THREADS="2", TRUSTED_PROXIES="1")
    port, spa_port = free_port(), free_port()
    conf = render(ROOT / "proxy" / "default.conf.template", {
        "BROKER_UPSTREAM": broker.url.removeprefix("http://"),
        "SPA_UPSTREAM": f"127.0.0.1:{free_port()}", "DEMO_APP_UPSTREAM": "127.0.0.1:1",
        "PROXY_CONNECTIONS_PER_CLIENT": "40"})
    conf = conf.replace("listen 8000;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("listen 5173;", f"listen 127.0.0.1:{spa_port};")
    nginx = Nginx(tmp_path_factory.mktemp("proxy"), conf)
    url = f"http://127.0.0.1:{port}"
    try:
        nginx.wait(url + "/healthz")
        yield url, broker.url
    finally:
        nginx.stop()


def test_the_proxy_forwards_and_hides_its_version(proxied) -> None:
    proxy, _ = proxied
    answer = requests.get(f"{proxy}/healthz", timeout=5)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert answer.headers["Server"] == "nginx"  # server_tokens off: no version


def test_slow_clients_wait_at_the_proxy_not_in_the_brokers_threads(proxied) -> None:
    proxy, broker = proxied
    port = int(proxy.rsplit(":", 1)[1])
    held = []
    for _ in range(30):  # the broker behind it has 2 threads in all
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /auth/session HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{")
        held.append(sock)
    try:
        for _ in range(5):
            assert requests.get(f"{proxy}/healthz", timeout=5).status_code == 200
            assert requests.get(f"{broker}/healthz", timeout=5).status_code == 200
    finally:
        for sock in held:
            sock.close()


def test_a_client_cannot_choose_its_forwarded_address(proxied) -> None:
    proxy, _ = proxied
    probe = requests.get(f"{proxy}/doctor/probe", headers={"X-Forwarded-For": "203.0.113.9"},
                         timeout=5).json()
    assert probe["forwarded_hops"] == 1  # the proxy's own entry replaced the client's


def test_bodies_are_limited_except_on_the_streamed_upload_route(proxied) -> None:
    proxy, _ = proxied
    big = b"x" * (200 * 1024)
    refused = requests.post(f"{proxy}/auth/session", data=big, timeout=10,
                            headers={"Content-Type": "application/json"})
    assert refused.status_code == 413
    assert refused.json()["error"] == "payload_too_large"
    upload = requests.put(f"{proxy}/api/uploads/p_1", data=big, timeout=10)
    assert upload.status_code == 401  # reached the broker, which wants a bearer token


def test_too_many_connections_from_one_client_get_429_json(proxied) -> None:
    proxy, _ = proxied
    port = int(proxy.rsplit(":", 1)[1])
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(45)]
    try:
        for sock in held:  # headers read, body never complete: each counts as a connection
            sock.sendall(b"POST /auth/session HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{")
        time.sleep(0.3)
        answer = requests.get(f"{proxy}/healthz", timeout=5)
        assert answer.status_code == 429
        assert answer.json()["error"] == "rate_limited" and answer.headers["Retry-After"]
    finally:
        for sock in held:
            sock.close()


def test_a_broker_that_is_down_is_a_503_json(tmp_path: Path) -> None:
    port = free_port()
    conf = render(ROOT / "proxy" / "default.conf.template", {
        "BROKER_UPSTREAM": f"127.0.0.1:{free_port()}", "SPA_UPSTREAM": "127.0.0.1:1",
        "DEMO_APP_UPSTREAM": "127.0.0.1:1", "PROXY_CONNECTIONS_PER_CLIENT": "8"})
    conf = conf.replace("listen 8000;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("listen 5173;", f"listen 127.0.0.1:{free_port()};")
    nginx = Nginx(tmp_path, conf)
    try:
        nginx.wait(f"http://127.0.0.1:{port}/")
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert answer.status_code == 503 and answer.json()["error"] == "broker_unavailable"
    finally:
        nginx.stop()


# --- the SPA's own nginx -------------------------------------------------------------------------

def test_every_spa_answer_carries_every_security_header(tmp_path: Path) -> None:
    html = tmp_path / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text("<!doctype html><title>spa</title>")
    (html / "assets" / "app-1.js").write_text("console.log(1)")
    values = {"BROKER_ORIGIN": "https://broker.example.com",
              "SPA_IMAGE_SOURCES": "https://*.tiktokcdn.com"}
    port = free_port()
    conf = render(ROOT / "spa" / "nginx" / "default.conf.template", values)
    conf = conf.replace("/etc/nginx/conf.d/security-headers.inc", str(tmp_path / "headers.inc"))
    conf = conf.replace("/usr/share/nginx/html", str(html))
    conf = conf.replace("listen 5173;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("listen [::]:5173;", "")
    (tmp_path / "headers.inc").write_text(
        render(ROOT / "spa" / "nginx" / "security-headers.inc.template", values))
    nginx = Nginx(tmp_path, conf)
    base = f"http://127.0.0.1:{port}"
    try:
        nginx.wait(base + "/")
        answers = {path: requests.get(base + path, timeout=5)
                   for path in ("/", "/post", "/assets/app-1.js", "/assets/missing.js")}
    finally:
        nginx.stop()
    assert [a.status_code for a in answers.values()] == [200, 200, 200, 404]
    for path, answer in answers.items():
        headers = answer.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "connect-src 'self' https://broker.example.com" in csp, path
        assert "script-src 'self';" in csp and "unsafe-eval" not in csp, path
        assert headers["Server"] == "nginx", path  # no version banner
    assert "immutable" in answers["/assets/app-1.js"].headers["Cache-Control"]
    assert answers["/"].headers["Cache-Control"] == "no-cache"
    assert "nginx/" not in answers["/assets/missing.js"].text
