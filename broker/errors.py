"""The broker's error family and the one JSON error shape every failure is answered with.

`{"error": <code>, "error_description": <text>[, "tiktok_log_id": ...]}`; no body ever holds a
token, a secret, a stack trace or TikTok's raw response.
"""

from __future__ import annotations

import logging

import redis.exceptions
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class BrokerError(Exception):
    """An error with a stable machine code, an HTTP status and a human sentence."""

    status = 400
    code = "invalid_request"
    description = "The request is invalid."

    def __init__(self, description: str | None = None, *, code: str | None = None,
                 tiktok_log_id: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(description or self.description)
        self.description = description or self.description
        self.code = code or self.code
        self.tiktok_log_id = tiktok_log_id
        self.headers = headers or {}


class BadRequest(BrokerError):
    pass


class Unauthenticated(BrokerError):
    """No credentials at all: a bare `WWW-Authenticate: Bearer` challenge."""

    status, code, description = 401, "unauthenticated", "A bearer token is required."


class InvalidToken(BrokerError):
    status, code, description = 401, "invalid_token", "The token is invalid."


class ReauthRequired(BrokerError):
    status, code = 401, "reauth_required"
    description = "TikTok no longer accepts this login; sign in with TikTok again."


class KeysChanged(ReauthRequired):
    """What the broker holds for the user was sealed with a key it no longer has: its keys
    changed (a restart without TOKEN_ENCRYPTION_KEYS, or a key retired too soon), not TikTok."""

    description = ("The broker's encryption keys changed since you signed in, so it can no longer "
                   "read your TikTok login; sign in with TikTok again.")


class Forbidden(BrokerError):
    status, code, description = 403, "forbidden", "This request is not allowed."


class NotFound(BrokerError):
    status, code, description = 404, "not_found", "No such resource."


class Conflict(BrokerError):
    status, code, description = 409, "conflict", "The resource is not in a state for this."


class Gone(BrokerError):
    status, code, description = 410, "gone", "The resource can no longer be used."


class PayloadTooLarge(BrokerError):
    status, code, description = 413, "payload_too_large", "The request body is too large."


class UnsupportedMediaType(BrokerError):
    status, code, description = 415, "unsupported_media_type", "Unsupported media type."


class RateLimited(BrokerError):
    status, code, description = 429, "rate_limited", "Too many requests; try again later."


class UpstreamError(BrokerError):
    """TikTok answered, but not usefully (5xx, malformed body, unexpected error)."""

    status, code, description = 502, "tiktok_error", "TikTok could not complete the request."


class UpstreamUnavailable(BrokerError):
    status, code, description = 503, "tiktok_unavailable", "TikTok cannot be reached right now."


class UpstreamTimeout(BrokerError):
    status, code, description = 504, "tiktok_timeout", "TikTok did not answer in time."


class StoreUnavailable(BrokerError):
    status, code, description = 503, "store_unavailable", "The broker's store is unavailable."


class InternalError(BrokerError):
    """A bug in the broker: answered without a word about what went wrong."""

    status, code, description = 500, "internal_error", "Something went wrong in the broker."


class HttpError(BrokerError):
    """Werkzeug's own refusals (404, 405, ...) in the broker's shape; the status is Werkzeug's."""

    def __init__(self, error: HTTPException) -> None:
        super().__init__(error.description,
                         code=(error.name or "error").lower().replace(" ", "_"))
        self.status = error.code or 500


def error_response(error: BrokerError) -> Response:
    """Render a BrokerError in the one JSON shape, with its headers."""
    body: dict[str, str] = {"error": error.code, "error_description": error.description}
    if error.tiktok_log_id:
        body["tiktok_log_id"] = error.tiktok_log_id
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = (
            "Bearer" if isinstance(error, Unauthenticated)
            else f'Bearer error="invalid_token", error_description="{error.description}"')
    if error.status in (429, 503) and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = "1" if error.status == 503 else "60"
    return response


def register_error_handlers(app: Flask) -> None:
    """Map every exception to the JSON shape: ours, Werkzeug's, Redis outages, then bugs."""

    @app.errorhandler(BrokerError)
    def _broker_error(error: BrokerError) -> Response:
        if error.status >= 500:
            log.warning("upstream failure: %s (%s)", error.code, error.description)
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = error_response(HttpError(error))
        if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(redis.exceptions.ConnectionError)  # also LOADING, bad AUTH, no primary
    @app.errorhandler(redis.exceptions.TimeoutError)
    @app.errorhandler(redis.exceptions.ReadOnlyError)  # a replica, or a primary just demoted
    @app.errorhandler(redis.exceptions.OutOfMemoryError)  # maxmemory reached, noeviction
    @app.errorhandler(redis.exceptions.MasterDownError)  # replica-serve-stale-data no
    def _store_down(error: Exception) -> Response:
        log.warning("redis unavailable: %s", type(error).__name__)
        return error_response(StoreUnavailable())

    @app.errorhandler(redis.exceptions.ResponseError)
    def _store_refused(error: redis.exceptions.ResponseError) -> Response:
        if str(error).startswith(_STORE_REFUSALS):
            return _store_down(error)
        return _bug(error)  # WRONGTYPE, a bad script...: a bug in the broker, not an outage

    @app.errorhandler(Exception)
    def _bug(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(InternalError())


# Redis refusals that redis-py leaves as a plain ResponseError but that mean "Redis cannot
# take writes right now" (a failed disk write, too few replicas): an outage, answered 503.
_STORE_REFUSALS = ("MISCONF", "NOREPLICAS")
