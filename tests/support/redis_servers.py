"""Private redis-server / redis-sentinel processes for fault tests, each in its own temp dir.

Every process listens on loopback (or a unix socket) on a free port; `RedisFleet` starts them,
lets a test stop, kill -9, pause (SIGSTOP), resume (SIGCONT) and restart them, and cleans up
every process and directory at the end, whatever state they were left in.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.sandbox import free_port

SERVICE = "mymaster"


class ProcessExited(RuntimeError):
    """A process a test was waiting on died."""


def wait_for(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy (exceptions count as falsy); return its value."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except ProcessExited:
            raise
        except Exception as error:  # polling: any other failure means "not yet"
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last!r})")


class RedisProcess:
    """One redis-server (or sentinel) process: a config file in `dir`, restartable in place."""

    program = "redis-server"

    def __init__(self, dir: Path, lines: list[str], *, port: int | None,
                 unix_socket: Path | None = None, tls: dict[str, str] | None = None,
                 password: str | None = None) -> None:
        self.dir, self.port, self.unix_socket, self.tls = dir, port, unix_socket, tls
        self.password = password
        self.config = dir / "redis.conf"
        self.log_path = dir / "redis.log"
        self.config.write_text("\n".join([
            "bind 127.0.0.1", f"dir {dir}", f"logfile {self.log_path}", "daemonize no",
            *lines, ""]))
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout: float = 10) -> RedisProcess:
        """Start (or restart, same port, dir and data) and wait until it answers PING."""
        assert not self.alive, "already running"
        self.process = subprocess.Popen([self.program, str(self.config)], cwd=self.dir,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.paused = False
        wait_for(self._answers, timeout=timeout, what=f"{self.program} on {self.address}")
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise ProcessExited(f"{self.program} exited with {self.process.returncode}:\n"
                               f"{self.log_tail()}")
        with self.client(timeout=0.5) as client:
            return bool(client.ping())

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """kill -9: no shutdown save, no goodbye to clients (a crash or a lost machine)."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.paused = False

    def stop(self) -> None:
        """A clean SIGTERM shutdown (resuming a paused process first)."""
        if self.alive:
            assert self.process is not None
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def pause(self) -> None:
        """SIGSTOP: the socket still accepts connections, but nothing is ever answered."""
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT after pause()."""
        if self.paused and self.alive:
            os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    # --- clients -------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return str(self.unix_socket) if self.port is None else f"127.0.0.1:{self.port}"

    def client(self, *, timeout: float = 2.0, db: int = 0) -> redis.Redis:
        """A plain test client straight to this process (not through Sentinel)."""
        options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
                                   "decode_responses": True, "db": db,
                                   "password": self.password,
                                   "retry": Retry(NoBackoff(), 0)}
        if self.port is None:
            return redis.Redis(unix_socket_path=str(self.unix_socket), **options)
        if self.tls:
            options.update(ssl=True, ssl_ca_certs=self.tls["ca"])
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def url(self, db: int = 0) -> str:
        """The REDIS_URL a broker would use for this server."""
        if self.port is None:
            return f"unix://{self.unix_socket}?db={db}"
        if self.tls:
            return (f"rediss://127.0.0.1:{self.port}/{db}"
                    f"?ssl_cert_reqs=required&ssl_ca_certs={self.tls['ca']}")
        return f"redis://127.0.0.1:{self.port}/{db}"

    def info(self, section: str = "replication") -> dict[str, Any]:
        with self.client() as client:
            found: dict[str, Any] = client.info(section)
            return found


class SentinelProcess(RedisProcess):
    """A redis-sentinel watching one primary under the service name `mymaster`."""

    program = "redis-sentinel"

    def client(self, *, timeout: float = 2.0, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout, decode_responses=True,
                           password=self.password, retry=Retry(NoBackoff(), 0))

    def primary_port(self) -> int:
        """The port Sentinel currently names as the primary of `mymaster`."""
        with self.client() as client:
            host, port = client.sentinel_get_master_addr_by_name(SERVICE)
            assert host == "127.0.0.1", host
            return int(port)

    def known_replicas(self) -> list[dict[str, Any]]:
        """Replicas Sentinel knows of and considers healthy (not down, not disconnected)."""
        with self.client() as client:
            replicas: list[dict[str, Any]] = client.sentinel_slaves(SERVICE)
        return [r for r in replicas if not (r.get("is_sdown") or r.get("is_disconnected"))]

    def url(self, db: int = 0) -> str:
        return f"redis+sentinel://127.0.0.1:{self.port}/{SERVICE}/{db}"


class RedisFleet:
    """Starts servers, replicas and sentinels under one temp dir; `close()` ends them all."""

    def __init__(self) -> None:
        # A short path: unix socket paths are limited to ~107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="tb-redis-"))
        self.processes: list[RedisProcess] = []

    def _dir(self, name: str) -> Path:
        path = self.root / f"{len(self.processes)}-{name}"
        path.mkdir()
        return path

    def server(self, *, aof: bool = False, unix_socket: bool = False,
               tls: bool = False, replica_of: RedisProcess | None = None,
               password: str | None = None, extra: list[str] | None = None) -> RedisProcess:
        """Start a redis-server: TCP on a free port, or a unix socket only, or TLS only.

        `aof=True` writes every command to the append-only file before answering
        (`appendfsync always`), so a kill -9 loses nothing that was acknowledged.
        """
        dir = self._dir("replica" if replica_of else "server")
        # No RDB snapshots; a replica syncs at once instead of after the default 5 s delay.
        lines = ["save ''", "protected-mode yes", "repl-diskless-sync-delay 0"]
        lines += (["appendonly yes", "appendfsync always", "appenddirname aof"] if aof
                  else ["appendonly no"])
        port: int | None = free_port()
        socket_path = None
        tls_files = None
        if unix_socket:
            socket_path = dir / "redis.sock"
            lines += ["port 0", f"unixsocket {socket_path}", "unixsocketperm 700"]
            port = None
        elif tls:
            tls_files = self_signed_certificate(dir)
            lines += ["port 0", f"tls-port {port}", f"tls-cert-file {tls_files['cert']}",
                      f"tls-key-file {tls_files['key']}", f"tls-ca-cert-file {tls_files['ca']}",
                      "tls-auth-clients no"]
        else:
            lines.append(f"port {port}")
        if replica_of is not None:
            lines.append(f"replicaof 127.0.0.1 {replica_of.port}")
        if password:  # the same password for clients and for the replication link
            lines += [f'requirepass "{password}"', f'masterauth "{password}"']
        server = RedisProcess(dir, lines + (extra or []), port=port, unix_socket=socket_path,
                              tls=tls_files, password=password)
        self.processes.append(server)
        server.start()
        if replica_of is not None:
            wait_for(lambda: server.info()["master_link_status"] == "up", timeout=10,
                     what="the replica's link to its primary")
        return server

    def sentinel(self, primary: RedisProcess, *, down_after_ms: int = 1000,
                 failover_timeout_ms: int = 4000,
                 password: str | None = None) -> SentinelProcess:
        """Start a sentinel (quorum 1) monitoring `primary` as `mymaster`; `password` is the
        sentinel's own (clients must AUTH to it), the primary's is taken from `primary`."""
        dir = self._dir("sentinel")
        port = free_port()
        sentinel = SentinelProcess(dir, [
            f"port {port}",
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} 1",
            f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}",
            f"sentinel failover-timeout {SERVICE} {failover_timeout_ms}",
            f"sentinel parallel-syncs {SERVICE} 1",
            *([f'sentinel auth-pass {SERVICE} "{primary.password}"'] if primary.password else []),
            *([f'requirepass "{password}"'] if password else []),
        ], port=port, password=password)
        self.processes.append(sentinel)
        return sentinel.start()  # type: ignore[return-value]

    def close(self) -> None:
        """Kill every process still running (paused ones too) and delete the temp dir."""
        for process in self.processes:
            if process.alive:
                process.resume()
                process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def redis_fleet() -> Iterator[RedisFleet]:
    fleet = RedisFleet()
    try:
        yield fleet
    finally:
        fleet.close()


def self_signed_certificate(dir: Path) -> dict[str, str]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA); paths to cert, key, ca."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tiktok-broker test redis")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = dir / "redis.crt", dir / "redis.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return {"cert": str(cert_path), "key": str(key_path), "ca": str(cert_path)}
