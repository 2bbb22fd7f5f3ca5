"""Fault injection and the request log: the hooks around every emulated TikTok endpoint."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request

from .responses import log_id

# Flask view -> endpoint name used by the control API and the request log.
ENDPOINTS: dict[str, str] = {
    "authorize.consent_page": "authorize", "authorize.decide": "authorize",
    "oauth.token": "token", "oauth.revoke": "revoke",
    "api.user_info": "user_info", "api.creator_info": "creator_info",
    "posting.video_init": "video_init", "posting.inbox_video_init": "inbox_video_init",
    "posting.content_init": "content_init", "posting.status_fetch": "status_fetch",
    "posting.cancel": "cancel", "upload.put_chunk": "upload",
    "videos.video_list": "video_list", "videos.video_query": "video_query",
}
KINDS = ("latency", "status", "rate_limit", "malformed", "error_200", "drop", "redirect")


@dataclass
class Fault:
    """One injected fault; ``times`` None means until cleared."""

    id: int
    endpoint: str
    kind: str
    status: int = 503
    seconds: float = 1.0
    times: int | None = None
    error: str | None = None


class Faults:
    """The active faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.active: list[Fault] = []

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate and register a fault from its JSON spec (raises ValueError)."""
        endpoint, kind = spec.get("endpoint", "*"), spec.get("kind")
        if endpoint != "*" and endpoint not in set(ENDPOINTS.values()):
            raise ValueError(f"unknown endpoint {endpoint!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        times = spec.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer")
        fault = Fault(next(self._ids), endpoint, kind, int(spec.get("status", 503)),
                      float(spec.get("seconds", 1.0)), times, spec.get("error"))
        with self._lock:
            self.active.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self.active = []

    def take(self, endpoint: str) -> list[Fault]:
        """Faults to apply to this request: all matching latency ones plus the first other one."""
        out: list[Fault] = []
        with self._lock:
            for f in list(self.active):
                if f.endpoint not in ("*", endpoint):
                    continue
                if f.kind != "latency" and any(o.kind != "latency" for o in out):
                    continue
                out.append(f)
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self.active.remove(f)
        return out

    def listing(self) -> list[dict[str, Any]]:
        """The active faults as JSON."""
        with self._lock:
            return [asdict(f) for f in self.active]


class RequestLog:
    """Every request that reached an emulated TikTok endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []

    def add(self, entry: dict[str, Any]) -> None:
        """Append one entry."""
        with self._lock:
            self.entries.append(entry)

    def clear(self) -> None:
        """Empty the log."""
        with self._lock:
            self.entries = []

    def query(self, endpoint: str | None, grant_type: str | None) -> list[dict[str, Any]]:
        """Entries, optionally filtered by endpoint name and grant_type."""
        with self._lock:
            return [e for e in self.entries
                    if (endpoint is None or e["endpoint"] == endpoint)
                    and (grant_type is None or e.get("grant_type") == grant_type)]


def _fault_response(fault: Fault, name: str) -> Response:
    oauth, api = name in ("token", "revoke"), name not in ("token", "revoke", "authorize", "upload")
    if fault.kind == "drop":
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)  # the client sees the connection close mid-request
        return Response(b"", status=500)
    if name == "upload":
        length = request.headers.get("Content-Length", "")
        stream = request.stream
        remaining = int(length) if length.isdigit() else 0
        while remaining > 0 and (piece := stream.read(min(remaining, 1 << 20))):
            remaining -= len(piece)
    if fault.kind == "redirect":  # to the very same URL: a client that follows comes back
        status = fault.status if 300 <= fault.status < 400 else 307
        return Response(b"", status=status, headers={"Location": request.url,
                                                     "X-Tt-Logid": log_id()})
    if fault.kind == "malformed":
        text = '{"access_token": "act.' if oauth else '{"data": {"user": {"open_id": "-000'
        return Response(text, status=200, mimetype="application/json")
    status = {"rate_limit": 429, "error_200": 200}.get(fault.kind, fault.status)
    if oauth:
        code = fault.error or {429: "rate_limit_exceeded", 503: "temporarily_unavailable"}.get(
            status, "server_error")
        body: dict[str, Any] = {"error": code, "error_description": "Injected by the sandbox.",
                                "log_id": log_id()}
    elif api:
        code = fault.error or ("rate_limit_exceeded" if status == 429 else "internal_error")
        body = {"data": {}, "error": {"code": code, "message": "Injected by the sandbox.",
                                      "log_id": log_id()}}
    else:
        return Response(f"Injected fault: {fault.kind}", status=status, mimetype="text/plain")
    return Response(json.dumps(body), status=status, mimetype="application/json")


def install(app: Flask) -> None:
    """Register the before/after hooks that apply faults and log requests."""

    @app.before_request
    def _apply_faults() -> Response | None:
        name = ENDPOINTS.get(request.endpoint or "")
        if name is None:
            return None
        g.started = time.time()
        if name == "token":
            g.grant_type = request.form.get("grant_type", "")
        for fault in current_app.extensions["sandbox"].faults.take(name):
            if fault.kind == "latency":
                time.sleep(fault.seconds)
                continue
            g.fault = fault.kind
            return _fault_response(fault, name)
        return None

    @app.after_request
    def _log(resp: Response) -> Response:
        name = ENDPOINTS.get(request.endpoint or "")
        if name is None:
            return resp
        entry: dict[str, Any] = {"method": request.method, "path": request.path,
                                 "endpoint": name, "status": resp.status_code,
                                 "time": g.get("started", time.time()),
                                 "duration": time.time() - g.get("started", time.time())}
        for key in ("grant_type", "open_id", "fault"):
            if g.get(key) is not None:
                entry[key] = g.get(key)
        if name == "upload":
            entry["content_range"] = request.headers.get("Content-Range")
        current_app.extensions["sandbox"].log.add(entry)
        return resp
