"""The staff web app: task list, task pages, case pages, office intake (Flask, server-rendered).

``create_app`` builds the app around the same application services the CLI and the worker use;
routes only parse the request, call one use case and render.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from service import bootstrap
from service.config import Settings

from . import admin, api, auth, cases, diagrams, errors, intake, legal, me, metrics, operations, repair, tasks, vendor
from .case_list import blueprint as case_list_blueprint
from .context import install_context
from .ids import RecordIdConverter
from .limits import install_limits
from .modeler import blueprint as modeler_blueprint
from .versions import blueprint as versions_blueprint

csrf = CSRFProtect()

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _secret_key(settings: Settings) -> str:
    """The configured key, or one generated once into the instance folder (embedded default)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(settings: Settings | None = None, services: bootstrap.Services | None = None,
               **overrides: Any) -> Flask:
    """The web app on the given (or environment's) settings; ``services`` may be passed in by tests."""
    settings = settings or Settings.from_env()
    services = services or bootstrap.build_services(settings)
    app = Flask(__name__, static_folder=None)  # /static is served from memory (see vendor.static_file)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=vendor.static_file)
    app.url_map.converters["int"] = RecordIdConverter  # before any route: a huge id is a 404, never a 500
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="homeschool_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        MAX_CONTENT_LENGTH=settings.max_attachment_bytes * 5 + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.update(overrides)
    app.extensions["homeschool"] = services
    csrf.init_app(app)
    install_context(app)
    errors.install(app)
    for blueprint in (auth.blueprint, tasks.blueprint, cases.blueprint, intake.blueprint, diagrams.blueprint,
                      legal.blueprint, admin.blueprint, api.blueprint, operations.blueprint, metrics.blueprint,
                      repair.blueprint, vendor.blueprint, case_list_blueprint, me.blueprint):
        app.register_blueprint(blueprint)
    app.register_blueprint(modeler_blueprint)  # the analysts' in-browser modeler
    app.register_blueprint(versions_blueprint)  # the analysts' versions page (deployments)
    csrf.exempt(api.blueprint)  # the API authenticates with bearer tokens, not cookies
    install_limits(app, settings, api.blueprint)

    @app.before_request
    def take_up_deployments() -> None:
        # A version deployed by another process is used here within HOMESCHOOL_DEPLOYMENT_CHECK_SECONDS.
        if services.runtime.deployments is not None:
            services.runtime.deployments.poll()

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", _CSP)
        # Pages and API answers carry personal and medical data: never kept by browsers or proxies.
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if settings.cookie_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    return app
