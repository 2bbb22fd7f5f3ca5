"""`GET /openapi.json`: the OpenAPI 3.1 document, built at start-up from the app's own routes.

Paths and methods come from Flask's url_map, each operation from the contract its view declared
with `@documented`, and every schema from the pydantic models the views use. A route that
declared nothing is left out and listed by `undocumented()` (a test keeps that list empty).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.routing import Rule

from broker.accounts.acting import ACCOUNT_HEADER, API_SCOPES, required_scope
from broker.schemas import ErrorBody
from broker.web.contract import (
    ATTRIBUTE,
    BEARER,
    REFRESH_COOKIE,
    SERVICE_KEY,
    Operation,
    Reply,
    documented,
    error_reply,
    operation_of,
)

EXTENSION = "tiktok_broker_openapi"
REF = "#/components/schemas/{model}"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
SECURITY_SCHEMES = {
    BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
             "description": "The broker's JWT from the login redirect, /auth/session or "
                            "/auth/refresh."},
    SERVICE_KEY: {"type": "http", "scheme": "bearer", "bearerFormat": "tbsk_<id>_<secret>",
                  "description": "A service key of the app's backend (`python -m broker "
                                 "service-keys create`); on /api/* with the Broker-Account "
                                 "header. The scopes listed per operation are the key's scope "
                                 "that operation needs."},
    REFRESH_COOKIE: {"type": "apiKey", "in": "cookie", "name": "broker_refresh",
                     "description": "HttpOnly refresh cookie (Path=/auth; on https "
                                    "`__Host-broker_refresh`, Path=/), rotated on use."},
}


# Contracts of views defined where `@documented` is not applied (an extension's own blueprint).
FOREIGN = {
    "metrics.scrape": documented(tag="operations", responses={200: Reply(
        "The metrics.", media_type="text/plain")}),
}


def install_openapi(app: Flask) -> None:
    """Add `/openapi.json` and build the document; call after every other route is added."""
    for endpoint, declare in FOREIGN.items():
        view = app.view_functions.get(endpoint)
        if view is not None and operation_of(view) is None:  # it takes no input to check
            setattr(view, ATTRIBUTE, operation_of(declare(view)))
    app.add_url_rule("/openapi.json", "openapi", openapi_json, methods=["GET"])
    app.extensions[EXTENSION] = build_document(app)


@documented(tag="operations",
            responses={200: Reply("The document.", media_type="application/json")})
def openapi_json() -> Response:
    """This API's OpenAPI 3.1 document (built at start-up)."""
    response = jsonify(current_app.extensions[EXTENSION])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def undocumented(app: Flask) -> list[str]:
    """Routes whose view declared no contract (each should be fixed, not tolerated)."""
    return sorted(f"{sorted(_methods(rule))} {rule.rule}" for rule in app.url_map.iter_rules()
                  if operation_of(app.view_functions[rule.endpoint]) is None)


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s documented routes."""
    operations = [(rule, operation) for rule in sorted(app.url_map.iter_rules(), key=str)
                  if (operation := operation_of(app.view_functions[rule.endpoint]))]
    models = _models(op for _, op in operations)
    refs, defs = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])),
                                    ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for rule, op in operations:
        item = paths.setdefault(_path(rule), {})
        for method in sorted(_methods(rule)):
            item[method.lower()] = _operation(rule, method, op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "tiktok-broker", "version": "1.0.0",
                 "description": "Log in with TikTok and post to TikTok from a SPA; TikTok's "
                                "tokens stay in the broker."},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }


Refs = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


def _models(operations: Any) -> set[tuple[type[BaseModel], JsonSchemaMode]]:
    found: set[tuple[type[BaseModel], JsonSchemaMode]] = {(ErrorBody, "serialization")}
    for op in operations:
        if op.body:
            found.add((op.body, "validation"))
        if op.raw_body and op.raw_body.model:
            found.add((op.raw_body.model, "validation"))
        found |= {(r.model, "serialization") for r in op.responses.values() if r.model}
    return found


def _operation(rule: Rule, method: str, op: Operation, refs: Refs) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
        "summary": op.summary,
        "tags": [op.tag or rule.endpoint.split(".")[0]],
        "parameters": _parameters(rule, op),
        "responses": {str(s): _response(r, refs) for s, r in op.responses.items()},
    }
    if op.security:
        doc["security"] = _security(rule.endpoint, op)
    if op.security == BEARER and rule.endpoint in API_SCOPES:  # also a service credential's
        doc["parameters"].append({
            "name": ACCOUNT_HEADER, "in": "header", "required": False, "schema": {
                "type": "string"}, "description": "With a service key or an app user's JWT: "
            "the connected account (TikTok open_id) to act for."})
        for status in (403, 404):
            doc["responses"].setdefault(str(status), _response(error_reply(status), refs))
    if op.body:
        doc["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    elif op.raw_body:
        schema = (refs[(op.raw_body.model, "validation")] if op.raw_body.model
                  else {"type": "string", "format": "binary"})
        doc["requestBody"] = {"required": True, "description": op.raw_body.description,
                              "content": {t: {"schema": schema} for t in op.raw_body.media_types}}
    return doc


def _security(endpoint: str, op: Operation) -> list[dict[str, list[str]]]:
    """Who may call: the login's JWT; a service key (with the scope it needs) where allowed."""
    scope = required_scope(endpoint)
    if op.security == SERVICE_KEY:
        return [{SERVICE_KEY: [scope] if scope else []}]
    if op.security == BEARER and scope:
        return [{BEARER: []}, {SERVICE_KEY: [scope]}]
    return [{op.security or BEARER: []}]


def _parameters(rule: Rule, op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": op.path.get(name, {"type": "string"})}
              for name in sorted(rule.arguments)]
    if op.query:
        schema = op.query.model_json_schema(ref_template=REF)
        params += [{"name": name, "in": "query", "required": name in schema.get("required", []),
                    "description": prop.pop("description", ""), "schema": prop}
                   for name, prop in schema["properties"].items()]
    params += [{"name": name, "in": "header", "required": True, "description": text,
                "schema": {"type": "string"}} for name, text in op.headers.items()]
    return params


def _response(reply: Reply, refs: Refs) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": reply.description}
    if reply.model:
        doc["content"] = {"application/json": {"schema": refs[(reply.model, "serialization")]}}
    elif reply.media_type:
        doc["content"] = {reply.media_type: {"schema": {"type": "string"}}
                          if reply.media_type.startswith("text/") else {}}
    if reply.headers:
        doc["headers"] = {name: {"description": text, "required": name != "Set-Cookie",
                                 "schema": {"type": "string"}}
                          for name, text in reply.headers.items()}
    return doc


def _path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - IGNORED_METHODS
