"""`@idempotent`: the `Idempotency-Key` header on the post-starting routes (SPEC "Posting that
survives"), over broker.jobs.idempotency. Place it under `@documented`, which checks the body.

A view reports the answer it is about to give, as soon as TikTok has accepted the post, with
`note_started`; a retry after a crash replays that answer rather than starting a second post.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ParamSpec

from flask import Response, g, jsonify, request
from pydantic import BaseModel

from broker.auth.jwts import Principal
from broker.errors import BadRequest, BrokerError
from broker.jobs.idempotency import Attempt, request_digest
from broker.services import services
from broker.web.caller import current_principal

P = ParamSpec("P")
HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x20-\x7e]{1,255}")  # SPEC: 1-255 printable ASCII
DOC = "1-255 printable ASCII characters; the same key and body within 24 h answer the same."
STORED_ERRORS = (400, 403, 404, 410, 413, 415, 422)  # refusals that a retry would get again


def idempotent(view: Callable[P, Response]) -> Callable[P, Response]:
    """Answer a repeated `Idempotency-Key` from Redis instead of running the view again."""
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not KEY.fullmatch(key):
            raise BadRequest("Idempotency-Key must be 1 to 255 printable ASCII characters.",
                             code="invalid_idempotency_key")
        store = services().idempotency
        digest = request_digest(request.method, request.path, request.get_json(silent=True))
        attempt = store.begin(scope_of(current_principal()), key, digest)
        if attempt.replay is not None:
            return _replayed(*attempt.replay)
        g.idempotency = attempt
        try:
            response = view(*args, **kwargs)
        except BrokerError as error:
            if error.status in STORED_ERRORS:
                store.finish(attempt, error.status, _error_body(error))
            else:
                store.abandon(attempt)
            raise
        except Exception:
            store.abandon(attempt)
            raise
        store.finish(attempt, response.status_code, response.get_json())
        return response
    return wrapper


def scope_of(principal: Principal) -> str:
    """Whose keys these are (SPEC: per account and credential holder): a service key, an app
    user's JWT and the account's own login never share a key, even for one account."""
    return f"{principal.caller}\n{principal.open_id}"


def reserved_id() -> str | None:
    """The id reserved for this request's key (a retry gets the same one), or None."""
    attempt: Attempt | None = g.get("idempotency")
    return attempt.reserved if attempt is not None else None


def note_started(answer: BaseModel, status: int) -> None:
    """Record the answer a view is about to give (TikTok already has the post)."""
    attempt: Attempt | None = g.get("idempotency")
    if attempt is not None:
        services().idempotency.record(
            attempt, status, answer.model_dump(mode="json", exclude_unset=True))


def _error_body(error: BrokerError) -> dict[str, str]:
    body = {"error": error.code, "error_description": error.description}
    if error.tiktok_log_id:
        body["tiktok_log_id"] = error.tiktok_log_id
    return body


def _replayed(status: int, body: object) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Idempotent-Replayed"] = "true"
    return response
