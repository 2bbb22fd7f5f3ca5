"""What gunicorn runs the broker with (gunicorn.conf.py): a gthread worker whose client sockets
time out on every read and write, and an access log that escapes control characters.

gunicorn's gthread worker waits (5 s) only for a client's first bytes; after that it reads the
request line, the headers and the body with blocking reads that never time out. About 40
clients that each send half a header line and fall silent would hold every thread of a
2-worker, 8-thread broker, `/healthz` included, for as long as they stay connected. Here every
blocking read or write gives up after `CLIENT_READ_TIMEOUT` seconds of silence, and the thread
goes back to the pool; gunicorn then closes the connection as a reset one (no traceback). A
buffering reverse proxy in front is still the first defence (README "Production").

The same worker also leaves new connections to a sibling with a free thread. Every idle worker
is woken when a connection arrives, and the first to call accept() gets it, busy or not
(gunicorn #3433; Cloudflare, "The sad state of Linux socket balancing"): measured here, wrk's
32 keep-alive connections went 19/6/5/2 over four workers (all 32 to one while the others were
still starting), the busiest worker's one GIL setting the p99.
"""

from __future__ import annotations

import errno
import re
import socket
import time
from typing import Any

from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class PatientSocket(socket.socket):
    """A client socket whose blocking mode has a timeout: silence ends the connection."""

    timeout_seconds = 10.0

    @classmethod
    def adopt(cls, sock: socket.socket) -> PatientSocket:
        """The same connection (the same file descriptor) as a PatientSocket."""
        return cls(sock.family, sock.type, sock.proto, fileno=sock.detach())

    def setblocking(self, flag: bool) -> None:
        """Blocking mode, bounded: gunicorn switches to it before reading a request."""
        if flag:
            self.settimeout(self.timeout_seconds)
        else:
            super().setblocking(False)

    def recv(self, *args: Any) -> bytes:
        try:
            return super().recv(*args)
        except TimeoutError as exc:
            raise _idle() from exc

    def recv_into(self, *args: Any) -> int:
        try:
            return super().recv_into(*args)
        except TimeoutError as exc:
            raise _idle() from exc

    def sendall(self, *args: Any) -> None:
        try:
            super().sendall(*args)
        except TimeoutError as exc:
            raise _idle() from exc


def _idle() -> ConnectionResetError:
    # gunicorn treats ECONNRESET as an ordinary client disconnect: logged at debug, no traceback.
    return ConnectionResetError(errno.ECONNRESET, "the client sent or read nothing in time")


class PatientThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker with a PatientSocket for every client connection, which
    accepts a connection it has no free thread for only after siblings had the chance."""

    # Long enough for an idle sibling, woken by the same connection, to take it; short enough
    # that a server whose every worker is busy still accepts 100 connections/s per worker.
    accept_hold_seconds = 0.01

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hold_until = 0.0

    def accept(self, listener: Any) -> None:
        """gunicorn's accept; then, with a connection for every thread, stop for a moment."""
        super().accept(listener)
        if self.nr_conns >= self.cfg.threads and self.cfg.workers > 1:
            self._hold_until = time.monotonic() + self.accept_hold_seconds
            super().set_accept_enabled(False)

    def set_accept_enabled(self, enabled: bool) -> None:
        """gunicorn's main loop asks for accepting on every turn; not while a hold lasts."""
        if enabled and time.monotonic() < self._hold_until:
            return
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """gunicorn's wait, cut short to end a hold on time."""
        remaining = self._hold_until - time.monotonic()
        if remaining > 0:
            timeout = min(timeout, remaining)
        super().wait_for_and_dispatch_events(timeout)

    def enqueue_req(self, conn: Any) -> None:
        """Hand the connection to a thread; a new one first gets its bounded socket."""
        if not isinstance(conn.sock, PatientSocket):
            conn.sock = PatientSocket.adopt(conn.sock)
        super().enqueue_req(conn)


class EscapingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with CR, LF, terminal escapes and other controls escaped in access
    log fields: a request path cannot forge a log line or drive the operator's terminal."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """gunicorn's access-log fields, every string escaped."""
        fields: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {name: escape(value) if isinstance(value, str) else value
                for name, value in fields.items()}


def escape(text: str) -> str:
    """Control characters as `\\xNN`, so a log line stays one line of plain text."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
