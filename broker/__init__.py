"""tiktok-broker: log in with TikTok and post to TikTok from a SPA, tokens kept server-side."""

from __future__ import annotations

from flask import Flask

from broker.clock import Clock, SystemClock
from broker.errors import register_error_handlers
from broker.http import install_http_policies
from broker.logs import configure_logging
from broker.metrics import install_metrics
from broker.openapi import install_openapi
from broker.ratelimits import install_rate_limits
from broker.services import EXTENSION, build_services
from broker.settings import Settings
from broker.views import api, content, ops, publish, webhooks
from broker.views.auth import auth_blueprint


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the broker: settings (from the environment unless given), logging, services, routes.

    Raises ConfigError listing every configuration problem; nothing is served with a bad one.
    """
    settings = settings or Settings.from_env()
    configure_logging(secrets=(settings.client_secret,))
    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=None, JSON_SORT_KEYS=False)
    app.extensions[EXTENSION] = build_services(settings, clock or SystemClock())
    install_http_policies(app, settings)
    install_metrics(app)  # before the limiter: its 429s are timed and counted too
    install_rate_limits(app)
    register_error_handlers(app)
    app.register_blueprint(auth_blueprint(settings.callback_path))
    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(content.bp)
    app.register_blueprint(publish.bp)
    app.register_blueprint(webhooks.bp)
    ops.register_verification_files(app, dict(settings.verification_files))
    install_openapi(app)  # last: it documents every route added above
    return app
