"""tiktok-broker: log in with TikTok and post to TikTok from a SPA, tokens kept server-side.

`create_app` is the whole wiring, in the order a request meets it. The package's layers, from
the top: `views/` (routes) → `web/` (what the factory installs around them) → `services` →
feature folders (`auth/`, `posting/`, `videos/`, `grants`, `profiles`, `webhooks`) →
`tiktok/` (the wire) → `config/`, `storage/`, `errors`, `clock`, `schemas`. Imports only point down.
"""

from __future__ import annotations

from flask import Flask

from broker.clock import Clock, SystemClock
from broker.config.settings import Settings
from broker.errors import register_error_handlers
from broker.services import EXTENSION, Observers, build_services
from broker.views import content, ops, profile, publish, webhooks
from broker.views import doctor as doctor_views  # aliased: broker.doctor is a package
from broker.views import posts as posts_views
from broker.views import service as service_views
from broker.views import videos as videos_views  # too, and importing it rebinds the name
from broker.views.auth import auth_blueprint
from broker.web.application import BrokerFlask
from broker.web.audit import install_audit
from broker.web.bearer import identify
from broker.web.headers import install_http_policies
from broker.web.logs import configure_logging
from broker.web.metrics import Metrics, install_metrics
from broker.web.openapi import install_openapi
from broker.web.ratelimits import install_rate_limits


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the broker: settings (from the environment unless given), logging, services, routes.

    Raises ConfigError listing every configuration problem; nothing is served with a bad one.
    """
    settings = settings or Settings.from_env()
    configure_logging(secrets=(settings.client_secret,))
    app = BrokerFlask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=None, JSON_SORT_KEYS=False)
    metrics = Metrics()
    svc = app.extensions[EXTENSION] = build_services(settings, clock or SystemClock(), Observers(
        tiktok_call=metrics.tiktok_call, refresh=metrics.count_refresh,
        webhook=metrics.count_webhook))
    # Before each request, in this order: CORS, timing, who is calling, rate limits.
    install_http_policies(app, settings)
    # before the limiter (its 429s are timed and counted too); /metrics on the app, or only at
    # METRICS_BIND (served by gunicorn.conf.py, off the public listener)
    install_metrics(app, metrics, serve=not settings.metrics_bind)
    app.before_request(identify)  # the caller, resolved once: the limiter and views read it
    install_audit(app)  # one line per service call (broker.accounts), after it is answered
    install_rate_limits(app, settings, svc.redis.connection_pool)
    register_error_handlers(app)
    app.register_blueprint(auth_blueprint(settings.callback_path))
    app.register_blueprint(profile.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(content.bp)
    app.register_blueprint(publish.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(videos_views.bp)
    app.register_blueprint(doctor_views.bp)
    app.register_blueprint(posts_views.bp)
    app.register_blueprint(service_views.bp)
    ops.register_verification_files(app, dict(settings.verification_files))
    install_openapi(app)  # last: it documents every route added above
    return app
