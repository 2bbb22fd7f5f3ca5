"""The sandbox's request handler: Werkzeug's, with the `Date` header in sandbox time, so an
advanced (or rewound) sandbox clock looks to clients like a TikTok whose clock differs."""

from __future__ import annotations

from email.utils import formatdate

from werkzeug.serving import WSGIRequestHandler


class SandboxRequestHandler(WSGIRequestHandler):
    """Stamps every answer's `Date` with the sandbox clock (real time plus its offset)."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """RFC 7231 date of `timestamp`, or of the sandbox's now."""
        if timestamp is None:
            services = getattr(self.server, "app", None)
            sandbox = getattr(services, "extensions", {}).get("sandbox")
            timestamp = sandbox.clock.now() if sandbox is not None else None
        return formatdate(timestamp, usegmt=True)
