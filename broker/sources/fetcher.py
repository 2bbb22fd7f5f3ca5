"""Opening a media source over https, safely (SPEC "Media from the app's storage").

Every hop is judged before a byte is sent: https only, no user names in the URL, and the host's
addresses resolved once and checked (broker.sources.addresses); the connection then goes to the
very address that was checked (no second lookup, so no DNS-rebinding window), with TLS verified
against the URL's host name. Redirects are followed by hand, each one judged like the first.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from broker.errors import BrokerError
from broker.sources.addresses import Resolver, is_ip_literal, refusal, system_resolver

MAX_REDIRECTS = 5
MAX_BYTES = 4 * 1024 ** 3  # TikTok's 4 GB (tiktok-api.md §5.8)
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
REDIRECTS = (301, 302, 303, 307, 308)
SocketOpener = Callable[[tuple[str, int], float], socket.socket]


class MediaSourceRefused(BrokerError):
    """The source was not fetched (or not fully): the reason says why. `transient` refusals (the
    source unreachable or failing) are retried by the worker; the others are final."""

    status, code = 400, "media_source_refused"
    description = "The media source was refused."

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(f"The media source was refused: {reason}.")
        self.reason, self.transient = reason, transient


@dataclass
class OpenedSource:
    """An open 200 answer: its declared size and type; read it once, then close it."""

    size: int
    content_type: str
    _response: http.client.HTTPResponse
    _connection: http.client.HTTPSConnection

    def read(self, size: int) -> bytes:
        """Up to `size` bytes; a source that breaks off raises OSError (like a socket)."""
        try:
            return self._response.read(size)
        except http.client.HTTPException as exc:
            raise OSError(f"the source broke off: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._response.close()
        self._connection.close()


class PinnedConnection(http.client.HTTPSConnection):
    """HTTPS to `host` (SNI, certificate and Host header) over a socket to one checked address."""

    def __init__(self, host: str, port: int, *, address: str, context: ssl.SSLContext,
                 timeout: float, open_socket: SocketOpener) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address, self._open_socket, self._tls = address, open_socket, context

    def connect(self) -> None:
        raw = self._open_socket((self._address, self.port), self.timeout or 30.0)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class SourceFetcher:
    """Opens `source_url`s; built once, shared by the web workers and the job worker."""

    def __init__(self, *, allowed_hosts: tuple[str, ...], timeout: float, ca_file: str = "",
                 resolve: Resolver = system_resolver,
                 open_socket: SocketOpener = socket.create_connection) -> None:
        self._allowed = frozenset(h.lower() for h in allowed_hosts)
        self._timeout, self._resolve, self._open_socket = timeout, resolve, open_socket
        self._tls = ssl.create_default_context(cafile=ca_file or None)
        if ca_file:  # a private CA (tests): trusted as well as the system's
            self._tls.load_default_certs()

    def open(self, url: str) -> OpenedSource:
        """GET the source, following redirects by hand; raise MediaSourceRefused with a reason."""
        for _ in range(MAX_REDIRECTS + 1):
            connection = self._connect(url)
            try:
                response = self._get(connection, url)
            except BaseException:
                connection.close()
                raise
            if response.status in REDIRECTS and response.getheader("Location"):
                location = response.getheader("Location") or ""
                response.close()
                connection.close()
                url = urljoin(url, location)
                continue
            return self._judge(response, connection)
        raise MediaSourceRefused(f"more than {MAX_REDIRECTS} redirects")

    def check(self, url: str) -> tuple[int, str]:
        """Open the source and close it again: its (size, content type), or a refusal."""
        source = self.open(url)
        source.close()
        return source.size, source.content_type

    def _connect(self, url: str) -> PinnedConnection:
        parts = urlsplit(url)
        if parts.scheme.lower() != "https":
            raise MediaSourceRefused("only https sources are fetched")
        host = (parts.hostname or "").lower()
        if not host or "@" in parts.netloc or "\\" in url:
            raise MediaSourceRefused("the URL names no plain host")
        try:
            port = parts.port or 443
        except ValueError:
            raise MediaSourceRefused("the URL's port is invalid") from None
        try:
            addresses = [host] if is_ip_literal(host) else self._resolve(host, port)
        except (OSError, UnicodeError):
            raise MediaSourceRefused(f"{host} does not resolve", transient=True) from None
        if not addresses:
            raise MediaSourceRefused(f"{host} does not resolve", transient=True)
        if host not in self._allowed:
            for address in addresses:  # every answer: a rebinding resolver may mix them
                why = refusal(address)
                if why:
                    raise MediaSourceRefused(f"{host} is {why} ({address})")
        # The address just checked is the one connected to: nothing is resolved again.
        return PinnedConnection(host, port, address=addresses[0], context=self._tls,
                                timeout=self._timeout, open_socket=self._open_socket)

    def _get(self, connection: PinnedConnection, url: str) -> http.client.HTTPResponse:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers={
                "User-Agent": "tiktok-broker", "Accept": ", ".join(VIDEO_TYPES),
                "Accept-Encoding": "identity"})
            return connection.getresponse()
        except ssl.SSLCertVerificationError:
            raise MediaSourceRefused("its TLS certificate is not valid for the host") from None
        except (OSError, http.client.HTTPException) as exc:
            raise MediaSourceRefused(f"it could not be read ({type(exc).__name__})",
                                     transient=True) from None

    @staticmethod
    def _judge(response: http.client.HTTPResponse,
               connection: http.client.HTTPSConnection) -> OpenedSource:
        def refuse(reason: str, transient: bool = False) -> MediaSourceRefused:
            response.close()
            connection.close()
            return MediaSourceRefused(reason, transient=transient)
        if response.status != 200:
            raise refuse(f"it answered HTTP {response.status}",
                         transient=response.status >= 500 or response.status == 429)
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if kind not in VIDEO_TYPES:
            raise refuse(f"its content type is {kind or 'missing'}, not an MP4, QuickTime or "
                         "WebM video")
        length = response.getheader("Content-Length") or ""
        if not length.isdigit() or int(length) < 1:
            raise refuse("it declares no size (Content-Length)")
        if int(length) > MAX_BYTES:
            raise refuse("it is larger than TikTok's 4 GB")
        return OpenedSource(int(length), kind, response, connection)
