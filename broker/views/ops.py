"""Operations: liveness, readiness, the JWKS, and TikTok's URL-verification files."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from broker.config.keys import jwks
from broker.schemas import Health, Jwks, Readiness
from broker.services import services
from broker.web.contract import Reply, documented, reply

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@documented(tag="operations", responses={200: Reply("Up.", Health)})
def healthz() -> Response:
    """Liveness: the process is up (no dependencies checked)."""
    return reply(Health(status="ok"), private=False)


@bp.get("/readyz")
@documented(tag="operations", responses={200: Reply("Ready.", Readiness),
                                         503: Reply("Redis is down or read-only.", Readiness)})
def readyz() -> Response:
    """Readiness: Redis answers and takes writes.

    A 503 otherwise, so load balancers route elsewhere.
    """
    if not services().store_ready():
        return reply(Readiness(status="unavailable", redis="down"), 503, private=False)
    return reply(Readiness(status="ok", redis="up"), private=False)


@bp.get("/.well-known/jwks.json")
@documented(tag="operations", responses={200: Reply("The JWK Set.", Jwks)})
def jwks_document() -> Response:
    """Public keys for verifying broker JWTs (empty for an HS256 secret)."""
    response = reply(Jwks.model_validate(jwks(services().settings.signing_keys)), private=False)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def register_verification_files(app: Flask, files: dict[str, str]) -> None:
    """Serve each TIKTOK_VERIFICATION_FILES entry at `/<name>` for TikTok's URL-prefix check."""
    for name, content in files.items():
        @documented(tag="operations", responses={200: Reply("The file.", media_type="text/plain")})
        def serve(content: str = content) -> Response:
            """TikTok's URL-prefix verification file (TIKTOK_VERIFICATION_FILES)."""
            return Response(content, mimetype="text/plain")
        app.add_url_rule(f"/{name}", f"verification_{len(app.view_functions)}", serve)
