"""What a request arrives as (blueprint "doctor"): `python -m broker doctor` compares it with
TRUSTED_PROXIES through the public URL."""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field

from broker.web.contract import Reply, documented, reply

bp = Blueprint("doctor", __name__)


class Probe(BaseModel):
    scheme: str = Field(description="The scheme the broker sees (after TRUSTED_PROXIES).")
    forwarded_hops: int = Field(description="Entries in the X-Forwarded-For header received.")


@bp.get("/doctor/probe")
@documented(tag="operations", responses={200: Reply("What this request arrived as.", Probe)})
def probe() -> Response:
    """How many proxies a request passed and the scheme the broker sees (for the doctor)."""
    forwarded = request.headers.getlist("X-Forwarded-For")
    hops = len([part for value in forwarded for part in value.split(",") if part.strip()])
    return reply(Probe(scheme=request.scheme, forwarded_hops=hops))
