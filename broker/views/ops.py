"""Operations: liveness, readiness, the JWKS, and TikTok's URL-verification files."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify

from broker.keys import jwks
from broker.services import services

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up (no dependencies checked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    """Ready when Redis answers; 503 otherwise, so load balancers route elsewhere."""
    if not services().store_ready():
        return jsonify({"status": "unavailable", "redis": "down"}), 503
    return jsonify({"status": "ok", "redis": "up"})


@bp.get("/.well-known/jwks.json")
def jwks_document() -> Response:
    """Public keys for verifying broker JWTs (empty for an HS256 secret)."""
    response = jsonify(jwks(services().settings.signing_keys))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def register_verification_files(app: Flask, files: dict[str, str]) -> None:
    """Serve each TIKTOK_VERIFICATION_FILES entry at `/<name>` for TikTok's URL-prefix check."""
    for name, content in files.items():
        def serve(content: str = content) -> Response:
            return Response(content, mimetype="text/plain")
        app.add_url_rule(f"/{name}", f"verification_{len(app.view_functions)}", serve)
