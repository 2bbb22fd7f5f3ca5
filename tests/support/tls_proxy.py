"""An https reverse proxy in front of a test broker, as ngrok or nginx would be in production.

It terminates TLS with a self-signed certificate for 127.0.0.1 (`cert_path`: point
REQUESTS_CA_BUNDLE at it), appends the client's address to X-Forwarded-For, and sets
X-Forwarded-Proto and X-Forwarded-Host. `blocked` path prefixes answer 404 (a proxy that does not
route them); `hops` > 1 pretends more proxies stand in front.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length", "host"}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsProxy:
    """A running https proxy: `url` (https://127.0.0.1:<port>), `cert_path`, and `stop()`."""

    def __init__(self, upstream: str, *, hops: int = 1, blocked: tuple[str, ...] = (),
                 same_cert_as: TlsProxy | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tls-proxy-")
        self.cert_path, key_path = (
            self_signed(Path(self._dir.name)) if same_cert_as is None
            else (same_cert_as.cert_path, same_cert_as.cert_path.with_name("proxy-key.pem")))
        self.upstream, self.hops, self.blocked = upstream.rstrip("/"), hops, blocked
        proxy, http = self, requests.Session()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith(proxy.blocked):
                    self._send(404, {"Content-Type": "text/plain"}, b"not routed")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                chain = ["203.0.113.7"] * (proxy.hops - 1) + [self.client_address[0]]
                headers.update({"X-Forwarded-For": ", ".join(chain), "X-Forwarded-Proto": "https",
                                "X-Forwarded-Host": self.headers.get("Host", "")})
                answer = http.request(self.command, proxy.upstream + self.path, data=body,
                                      headers=headers, allow_redirects=False, timeout=30)
                self._send(answer.status_code, {k: v for k, v in answer.headers.items()
                                                if k.lower() not in HOP_BY_HOP}, answer.content)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving and remove the certificate files."""
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()
