"""The user's own data through the broker: `/api/me` (blueprint "api")."""

from __future__ import annotations

from flask import Blueprint, Response

from broker.profiles import fields_for
from broker.schemas import MeQuery, Profile
from broker.services import services
from broker.web.caller import current_principal
from broker.web.contract import (
    BEARER,
    TIKTOK_ERRORS,
    Reply,
    documented,
    from_tiktok,
    query_of,
    reply,
)

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
@documented(security=BEARER, query=MeQuery, errors=TIKTOK_ERRORS,
            responses={200: Reply("The profile fields asked for (null where TikTok gave none).",
                                  Profile)})
def me() -> Response:
    """The user's TikTok profile, limited to the granted scopes, briefly cached."""
    principal = current_principal()
    fields = fields_for(principal.scopes, query_of(MeQuery).fields)
    return reply(from_tiktok(Profile, services().profiles.get(principal.open_id, fields)))
