"""TikTok sandbox: a local emulator of Login Kit and the Content Posting API (tiktok-api.md).

It shares no code with ``broker/``. Start it with ``python -m sandbox``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from flask import Flask, Response

from . import api, authorize, control, faults, oauth, posting, upload, videos
from .config import Config, ConfigError
from .faults import Faults, RequestLog
from .posts import Posts
from .ratelimit import RateLimiter
from .store import Clock, TokenStore
from .webhooks import Webhooks

__all__ = ["Config", "ConfigError", "Services", "create_app"]


class Services:
    """Everything the sandbox keeps in memory, reached through ``app.extensions["sandbox"]``."""

    def __init__(self, config: Config) -> None:
        self.initial = config
        self.config = config
        self.clock = Clock()
        self.store = TokenStore(self.clock)
        self.webhooks = Webhooks(lambda: self.config, self.clock.now)
        self.posts = Posts(self.clock, self.webhooks, lambda: self.config)
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.log = RequestLog()

    def reset(self) -> None:
        """Back to the start-up state (the record of issued secrets is kept)."""
        self.config = self.initial
        self.clock.offset = 0.0
        self.store.reset()
        self.posts.reset()
        self.limiter.reset()
        self.faults.clear()
        self.log.clear()
        self.webhooks.reset()


def _ticker(services: Services, stop: threading.Event) -> None:
    while not stop.wait(0.1):
        services.posts.tick()


def create_app(config: Config | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the sandbox app from ``config`` (or ``SANDBOX_*`` in ``environ``)."""
    if config is None:
        config = Config.from_env(environ or {})
    app = Flask(__name__)
    services = Services(config)
    app.extensions["sandbox"] = services
    for module in (authorize, oauth, api, posting, upload, videos, control):
        app.register_blueprint(module.bp)
    faults.install(app)

    @app.get("/avatars/<name>")
    def avatar(name: str) -> Response:
        """A small placeholder avatar for the test users' profile URLs."""
        letter = (name[:1] or "?").upper()
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
               '<rect width="100" height="100" fill="#fe2c55"/><text x="50" y="66" '
               f'font-size="48" text-anchor="middle" fill="#fff">{letter}</text></svg>')
        return Response(svg, mimetype="image/svg+xml")

    stop = threading.Event()
    app.extensions["sandbox_stop"] = stop
    threading.Thread(target=_ticker, args=(services, stop), daemon=True,
                     name="sandbox-ticker").start()
    app.extensions["sandbox_started"] = time.time()
    return app
