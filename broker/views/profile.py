"""The user's own data through the broker: `/api/me` (blueprint "api")."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.auth.jwts import Principal
from broker.profiles import fields_for
from broker.schemas import MeQuery, Profile
from broker.services import services
from broker.web.caller import cached_answer, current_principal
from broker.web.contract import BEARER, TIKTOK_ERRORS, Reply, documented, query_of, reply_json

bp = Blueprint("api", __name__, url_prefix="/api")


def cached_me(principal: Principal) -> tuple[str, str] | None:
    """Where this caller's cached `/api/me` answer is (read with the session check)."""
    fields = fields_for(principal.scopes, request.args.get("fields"))
    return services().profiles.cache_slot(principal.open_id, fields)


@bp.get("/me")
@documented(security=BEARER, query=MeQuery, errors=TIKTOK_ERRORS, cached=cached_me,
            responses={200: Reply("The profile fields asked for (null where TikTok gave none).",
                                  Profile)})
def me() -> Response:
    """The user's TikTok profile, limited to the granted scopes, briefly cached."""
    cached = cached_answer()
    if cached is not None:  # checked against Profile when it was cached
        return reply_json(cached)
    principal = current_principal()
    fields = fields_for(principal.scopes, query_of(MeQuery).fields)
    return reply_json(services().profiles.get(principal.open_id, fields))
