"""The user's own data through the broker: `/api/me`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from broker.bearer import current_principal, require_bearer
from broker.profiles import fields_for
from broker.services import services

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
@require_bearer
def me() -> Response:
    """The user's TikTok profile, limited to the granted scopes, briefly cached."""
    principal = current_principal()
    fields = fields_for(principal.scopes, request.args.get("fields"))
    response = jsonify(services().profiles.get(principal.open_id, fields))
    response.headers["Cache-Control"] = "private, no-store"
    return response
