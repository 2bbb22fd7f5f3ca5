"""Prometheus metrics for `GET /metrics`, correct under several gunicorn workers.

With `PROMETHEUS_MULTIPROC_DIR` set (gunicorn.conf.py makes a private one when it is not),
prometheus_client's multiprocess mode has every worker write its samples to its own files
there, and the view adds all of them up with `MultiProcessCollector`: whichever worker answers
the scrape, the numbers cover every worker. Without it (`flask run`, one process) the app's own
registry is served. Labels are bounded sets: Flask endpoints (never raw paths), TikTok endpoint
names, outcome words and known event names.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Flask, Response, current_app, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from broker.errors import RateLimited, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from broker.tiktok.client import CallNote
from broker.tiktok.errors import API_ERRORS, TikTokApiError, TikTokOAuthError

EXTENSION = "tiktok_broker.metrics"
STARTED = "tiktok_broker.started"  # the WSGI environ key of the request's start time
NAMESPACE = "tiktok_broker"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # else "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OAUTH_ERRORS = frozenset({  # RFC 6749 §5.2 and TikTok's token endpoint (§2.5)
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "access_denied", "server_error",
    "temporarily_unavailable"})


class Metrics:
    """The broker's metric objects, registered in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter("http_requests", "HTTP requests answered, by route (Flask "
                                "endpoint), method and status.", ("route", "method", "status"),
                                namespace=NAMESPACE, registry=r)
        self.request_seconds = Histogram("http_request_duration_seconds", "Time to answer an "
                                         "HTTP request, by route.", ("route", "method"),
                                         namespace=NAMESPACE, registry=r, buckets=LATENCY_BUCKETS)
        self.tiktok_calls = Counter("tiktok_calls", "Calls to TikTok by endpoint and outcome.",
                                    ("endpoint", "outcome"), namespace=NAMESPACE, registry=r)
        self.tiktok_seconds = Histogram("tiktok_call_duration_seconds", "Duration of calls to "
                                        "TikTok, by endpoint.", ("endpoint",),
                                        namespace=NAMESPACE, registry=r, buckets=LATENCY_BUCKETS)
        self.refreshes = Counter("token_refreshes", "Refreshes of users' TikTok tokens by outcome "
                                 "(waited: another worker refreshed while this one waited).",
                                 ("outcome",), namespace=NAMESPACE, registry=r)
        self.logins = Counter("logins", "Finished logins (callbacks) by outcome.", ("outcome",),
                              namespace=NAMESPACE, registry=r)
        self.webhooks = Counter("webhook_events", "TikTok webhook deliveries by event and result.",
                                ("event", "result"), namespace=NAMESPACE, registry=r)
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.upload_bytes = Counter("upload_bytes", "Video bytes sent to TikTok that it accepted.",
                                    namespace=NAMESPACE, registry=r)

    @contextmanager
    def tiktok_call(self, endpoint: str) -> Iterator[CallNote]:
        """Time one TikTok call; its outcome is the note's, else judged from the exception."""
        note, started = CallNote(), time.perf_counter()
        try:
            yield note
        except Exception as exc:
            note.outcome = note.outcome or outcome_of(exc)
            raise
        finally:
            self.tiktok_calls.labels(endpoint, note.outcome or "ok").inc()
            self.tiktok_seconds.labels(endpoint).observe(time.perf_counter() - started)
            if note.bytes_sent:
                self.upload_bytes.inc(note.bytes_sent)

    def series(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        """The request counter and duration histogram of one (route, method, status): looked up
        once, then kept (the label sets are bounded, so is this memo)."""
        key = (route, method, status)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = (self.requests.labels(route, method, str(status)),
                                         self.request_seconds.labels(route, method))
        return found

    def count_refresh(self, outcome: str) -> None:
        """One grant refresh: done, waited, failed or reauth."""
        self.refreshes.labels(outcome).inc()

    def count_webhook(self, event: str, result: str) -> None:
        """One webhook delivery: processed, duplicate, ignored, bad_signature, stale, malformed."""
        self.webhooks.labels(event, result).inc()


def outcome_of(exc: BaseException) -> str:
    """A bounded label for a failed TikTok call: TikTok's known error code, or the failure kind."""
    if isinstance(exc, TikTokApiError):
        return exc.tiktok_code if exc.tiktok_code in API_ERRORS else "tiktok_error"
    if isinstance(exc, TikTokOAuthError):
        return exc.error if exc.error in OAUTH_ERRORS else "oauth_error"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, UpstreamTimeout):
        return "timeout"
    if isinstance(exc, UpstreamUnavailable):  # a transport failure has a cause; HTTP 503 none
        return "unavailable" if exc.__cause__ is not None else "http_5xx"
    if isinstance(exc, UpstreamError):
        if exc.code == "tiktok_bad_response":
            return "bad_response"
        return "transport_error" if exc.__cause__ is not None else "http_5xx"
    return "error"


def current() -> Metrics | None:
    """The metrics of the app handling this request, if any."""
    if not has_app_context():
        return None
    found: Metrics | None = current_app.extensions.get(EXTENSION)
    return found


def count_login(outcome: str) -> None:
    """One callback: completed, declined, failed or invalid_state."""
    if (metrics := current()) is not None:
        metrics.logins.labels(outcome).inc()


def install_metrics(app: Flask, metrics: Metrics, *, serve: bool = True) -> None:
    """Time and count every request (the services report to `metrics` too); serve /metrics on
    the app unless `serve` is false (METRICS_BIND: gunicorn serves it on a private address)."""
    app.extensions[EXTENSION] = metrics

    wsgi_app = app.wsgi_app

    def start_timer(environ: dict[str, Any], start_response: Any) -> Any:
        # Timed from the WSGI call (Flask's own work included), without a before_request hook.
        environ[STARTED] = time.perf_counter()
        return wsgi_app(environ, start_response)

    app.wsgi_app = start_timer  # type: ignore[method-assign]

    @app.after_request
    def observe(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup
        route = req.endpoint or "unmatched"  # never the raw path: bounded
        method = req.method if req.method in METHODS else "other"
        counter, timer = metrics.series(route, method, response.status_code)
        counter.inc()
        started = req.environ.get(STARTED)
        if started is not None:
            timer.observe(time.perf_counter() - started)
        return response

    if not serve:
        return
    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def scrape() -> Response:
        """Prometheus metrics (text exposition format).

        Every worker's samples when in multiprocess mode.
        """
        return Response(generate_latest(scrape_registry(metrics.registry)),
                        mimetype=CONTENT_TYPE_LATEST)

    app.register_blueprint(bp)


def scrape_registry(own: CollectorRegistry) -> CollectorRegistry:
    """What a scrape reads: every worker's samples in multiprocess mode, else `own`."""
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # read by prometheus_client
    if not multiprocess_dir:
        return own
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    return registry
