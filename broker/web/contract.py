"""`@documented`: one declaration per route that both enforces and documents its contract.

It answers a bearer route's refusal (the caller was resolved by broker.web.bearer before the
rate limiter), parses the query string and the JSON body with their pydantic
models (refusing bad input with a 4xx in the broker's error shape, never pydantic's error list),
and records the route's metadata, from which broker.web.openapi builds `/openapi.json`.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from flask import Response, g, jsonify, request
from pydantic import BaseModel, ValidationError

from broker.errors import BadRequest, PayloadTooLarge, UpstreamError
from broker.schemas import Body, ErrorBody, Query
from broker.tiktok.errors import API_ERRORS
from broker.web.caller import current_principal

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
MAX_JSON = 64 * 1024  # request bodies are small; a larger one is refused unread
ATTRIBUTE = "__broker_operation__"


@dataclass(frozen=True)
class Reply:
    """One documented response: its model (JSON) or media type, and headers it carries."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RawBody:
    """A request body the view reads itself (streamed or signed bytes): documented, not parsed."""

    media_types: tuple[str, ...]
    model: type[BaseModel] | None = None
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """What `/openapi.json` says of one view."""

    summary: str
    responses: Mapping[int, Reply]
    body: type[Body] | None = None
    raw_body: RawBody | None = None
    query: type[Query] | None = None
    security: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    path: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    tag: str = ""
    # (key, hash field) of an answer this route cached for the caller, read by broker.auth.gate
    # in the round trip that checks the session (None: nothing to read). Not in /openapi.json.
    cached: Callable[[Any], tuple[str, str] | None] | None = field(default=None, compare=False)


BEARER, REFRESH_COOKIE = "bearerAuth", "refreshCookie"
SERVICE_KEY = "serviceKey"  # the app backend's `Authorization: Bearer tbsk_...` (/service/*)
AUTHENTICATED = (BEARER, SERVICE_KEY)  # resolved by broker.web.bearer before the limiter
# What a route that calls TikTok may answer: its mapped refusals, then 429/502/503/504.
TIKTOK_ERRORS = tuple(sorted({status for status, _, _ in API_ERRORS.values()} | {429, 502, 503,
                                                                                  504}))
UNAUTHORIZED = Reply("No, an invalid or an ended credential.", ErrorBody,
                     headers={"WWW-Authenticate": "`Bearer`, or `Bearer error=\"invalid_token\", "
                              "error_description=\"...\"`."})
STATUS_TEXT = {400: "Bad request.", 403: "Not allowed.", 404: "No such resource.",
               409: "Not in a state for this.", 410: "Gone.", 413: "Payload too large.",
               415: "Unsupported media type.", 429: "Too many requests.",
               502: "TikTok failed or answered garbage.",
               503: "TikTok or the broker's store is unavailable.",
               504: "TikTok did not answer in time."}


def error_reply(status: int) -> Reply:
    """The documented ErrorBody answer for an error status."""
    if status == 401:
        return UNAUTHORIZED
    headers = {"Retry-After": "Seconds to wait."} if status in (429, 503) else {}
    return Reply(STATUS_TEXT.get(status, "Error."), ErrorBody, headers=headers)


def documented(*, responses: Mapping[int, Reply], errors: Iterable[int] = (),
               body: type[Body] | None = None, raw_body: RawBody | None = None,
               query: type[Query] | None = None, security: str | None = None,
               headers: Mapping[str, str] | None = None,
               path: Mapping[str, dict[str, Any]] | None = None, tag: str = "",
               cached: Callable[[Any], tuple[str, str] | None] | None = None,
               ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a route's contract: enforce bearer auth, query and JSON body, and document it.

    The operation's summary is the view's docstring (its first paragraph), said once.
    """
    statuses = set(errors) | ({401} if security in AUTHENTICATED else set())
    statuses |= {403} if security == SERVICE_KEY else set()
    statuses |= {400, 413} if body else set()
    statuses |= {400} if query else set()
    all_replies = {**{s: error_reply(s) for s in sorted(statuses)}, **responses}

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        operation = Operation(summary_of(view), dict(sorted(all_replies.items())), body,
                              raw_body, query, security, dict(headers or {}), dict(path or {}),
                              tag, cached)

        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if security in AUTHENTICATED:
                current_principal()  # raises the refusal broker.web.bearer recorded
            if query is not None:
                g.query = _validate(query, request.args.to_dict())
            if body is not None:
                g.body = _validate(body, _json_object(body))
            return view(*args, **kwargs)
        setattr(wrapper, ATTRIBUTE, operation)
        return wrapper
    return decorate


def summary_of(view: Callable[..., Any]) -> str:
    """The first paragraph of the view's docstring, on one line: the operation's summary."""
    doc = inspect.getdoc(view)
    if not doc:
        raise TypeError(f"{view.__name__} needs a docstring: it is the route's summary")
    return " ".join(doc.split("\n\n", 1)[0].split())


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The contract `@documented` recorded on a view, if any."""
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


def body_of(model: type[M]) -> M:
    """This request's JSON body, as `@documented(body=model)` validated it."""
    parsed = g.get("body")
    if not isinstance(parsed, model):
        raise TypeError(f"the route does not declare body={model.__name__}")
    return parsed


def query_of(model: type[M]) -> M:
    """This request's query string, as `@documented(query=model)` validated it."""
    parsed = g.get("query")
    if not isinstance(parsed, model):
        raise TypeError(f"the route does not declare query={model.__name__}")
    return parsed


def reply(model: BaseModel, status: int = 200, *, private: bool = True) -> Response:
    """A JSON answer from a response model (fields never set are left out); no cache keeps it."""
    response = jsonify(model.model_dump(mode="json", exclude_unset=True))
    response.status_code = status
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def reply_json(body: str | Mapping[str, Any]) -> Response:
    """A 200 JSON answer its producer already shaped and checked (a cached answer is sent as
    the text it was cached as: no model is built on the hot path); no cache keeps it."""
    response = (Response(body, mimetype="application/json") if isinstance(body, str)
                else jsonify(body))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def from_tiktok(model: type[M], data: Mapping[str, Any]) -> M:
    """A response model filled from TikTok's data; a shape TikTok should never send is a 502."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise UpstreamError("TikTok answered with data of an unexpected shape.",
                            code="tiktok_bad_response") from exc


def _json_object(model: type[Body]) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_JSON:
        raise PayloadTooLarge()
    request.max_content_length = MAX_JSON  # also bounds a body sent without Content-Length
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's JSON parser goes: malformed, not a bug
        data = None
    if not isinstance(data, dict):
        raise BadRequest(model.malformed_description, code=model.malformed_code)
    try:  # "\ud800" is valid JSON but no text: it would fail later, at encoding, as a 500
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise BadRequest("The JSON holds an unpaired UTF-16 surrogate (\\ud800-\\udfff).",
                         code=model.malformed_code) from None
    return data


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        names = [str(part) for part in first["loc"] if isinstance(part, str)]
        codes: dict[str, str] = getattr(model, "error_codes", {})
        code = next((codes[p] for p in (".".join(names[:n]) for n in range(len(names), 0, -1))
                     if p in codes), "invalid_request")
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{where}: {first['msg']}.", code=code) from None
