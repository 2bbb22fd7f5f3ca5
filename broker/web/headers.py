"""HTTP hygiene for every response: security headers, CORS for the SPA, trusted proxies."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from broker.config.settings import Settings


def request_header(name: str) -> str | None:
    """A request header, read from the WSGI environ (not Content-Type or Content-Length, which
    have no HTTP_ name there): `request.headers` raises and catches a KeyError for each absent
    one, which on the hot path cost more than the lookup itself."""
    value: str | None = request.environ.get("HTTP_" + name.upper().replace("-", "_"))
    return value


def _named(*headers: tuple[str, str]) -> tuple[tuple[str, str, str], ...]:
    return tuple((name.lower(), name, value) for name, value in headers)


# Sent with every response unless the view set its own.
SECURITY_HEADERS = _named(
    ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cache-Control", "no-store"))
HSTS = _named(("Strict-Transport-Security", "max-age=31536000"))  # when served over https


def install_http_policies(app: Flask, settings: Settings) -> None:
    """CORS limited to SPA_ORIGINS, security headers, and X-Forwarded-* from trusted proxies."""
    CORS(app, origins=list(settings.spa_origins), supports_credentials=True,
         resources={r"/api/*": {}, r"/auth/*": {}, r"/logout": {}},
         allow_headers=["Authorization", "Content-Type", "Content-Range", "Idempotency-Key"],
         expose_headers=["Retry-After", "WWW-Authenticate", "Idempotent-Replayed"],
         max_age=600)
    # flask-cors matches every response's path against its resources; a request without an
    # Origin header is not a cross-origin one and gets nothing from it, so it skips the work
    # (about a sixth of a cached /api/me's own time). Its hook is the one CORS() just added.
    cors: Callable[[Response], Response] = app.after_request_funcs[None][-1]  # type: ignore[assignment]

    def cors_for_cross_origin(response: Response) -> Response:
        return cors(response) if request_header("Origin") is not None else response

    app.after_request_funcs[None][-1] = cors_for_cross_origin
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n,  # type: ignore[method-assign]
                                x_port=n, x_prefix=n)

    policy = SECURITY_HEADERS + (HSTS if settings.public_is_https else ())

    @app.after_request
    def security_headers(response: Response) -> Response:
        # One pass over the headers the view set: werkzeug's own lookup of an absent name
        # raises and catches a KeyError, which was most of this hook's cost, once per header.
        present, vary = set(), ""
        for name, value in response.headers.items():
            name = name.lower()
            present.add(name)
            if name == "vary":
                vary += value
        for lowered, name, value in policy:
            if lowered not in present:  # a view's own choice stands (e.g. a longer Cache-Control)
                response.headers.add(name, value)
        if "Origin" not in vary:
            response.headers.add("Vary", "Origin")  # CORS answers differ by Origin
        return response
