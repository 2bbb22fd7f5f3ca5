"""The audit trail of the app backend's calls: one log line per service call (broker.accounts).

Written after the answer: who held the credential (the key's id, or the app user a minted JWT
stands for), the route, the account acted for and the status. Never a secret: the key's id is
the public half of `tbsk_<id>_<secret>`.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from broker.accounts.keys import key_id_of
from broker.web.caller import identified
from broker.web.headers import request_header

log = logging.getLogger("broker.audit")


def audit(response: Response) -> Response:
    """After each request: log it when a service credential made it, or it is a service route."""
    principal = identified()
    holder = principal.holder if principal is not None else ""
    if principal is None:  # refused or anonymous: a service key may still have been presented
        presented = key_id_of((request_header("Authorization") or "").partition(" ")[2].strip())
        holder = f"key:{presented}" if presented else ""
    endpoint = request.endpoint or "unmatched"
    if not holder and (not endpoint.startswith("service.") or endpoint == "service.connect"):
        return response
    log.info("service call", extra={
        "caller": holder or "none", "route": endpoint, "method": request.method,
        "account_id": (principal.open_id or None) if principal is not None else None,
        "status": response.status_code})
    return response


def install_audit(app: Flask) -> None:
    """Log every service call once, after it is answered."""
    app.after_request(audit)
