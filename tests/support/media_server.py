"""The app's own storage, as a test sees it: an https server with a certificate from a test CA
(made here with `cryptography`; point MEDIA_SOURCE_CA_FILE at `ca_path`).

`/video?size=N[&type=video/mp4]` streams N pattern bytes with a Content-Length (generated piece
by piece: never the whole file in memory); `/redirect?to=URL` answers 302 to URL; `/declare?size=N`
declares N bytes and sends none.
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
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BLOCK = bytes(range(256)) * 4096  # 1 MiB


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def make_ca_and_leaf(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, leaf certificate, leaf key) for localhost and 127.0.0.1, for a day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tiktok-broker test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (_pem(directory / "ca.pem", ca.public_bytes(pem)),
            _pem(directory / "leaf.pem", leaf.public_bytes(pem)),
            _pem(directory / "leaf.key", leaf_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = int(query.get("size", "1048576"))
        self.send_response(200)
        self.send_header("Content-Type", query.get("type", "video/mp4"))
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if parts.path != "/video":
            return
        sent = 0
        try:
            while sent < size:
                piece = BLOCK[:min(len(BLOCK), size - sent)]
                self.wfile.write(piece)
                sent += len(piece)
        except OSError:
            pass


class MediaServer:
    """A threaded https server on 127.0.0.1; `url(path)` uses the host name localhost."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="media-source-"))
        self.ca_path, cert, key = make_ca_and_leaf(self.directory)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.hits = []  # type: ignore[attr-defined]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def hits(self) -> list[str]:
        return list(self._server.hits)  # type: ignore[attr-defined]

    def url(self, path: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
