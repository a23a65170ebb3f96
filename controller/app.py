"""The controller's Flask application factory.

``create_app(config)`` builds everything the page needs in one place and attaches it to the app with
``init_app``: the :class:`controller.db.Database` (its sessions carry the audit key), the
:class:`controller.live.LiveBus`, the request guard (:mod:`controller.web.guard`) and one blueprint
per area (:mod:`controller.web`). Nothing lives at module level, so tests build as many apps as they
like. ``congress controller run`` (:mod:`controller.server`) wraps the app in the cheroot server and
starts the ingest and the device watch beside it, handing them the same database and bus.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask import Flask

from congress.config.controller import ControllerConfig
from controller import audit
from controller.auth import LoginLimits, make_hasher
from controller.db import Database
from controller.devices import AlarmPolicy
from controller.live import LiveBus

log = logging.getLogger(__name__)

#: Largest upload (roster CSV with photos in a zip is not accepted; photos come by path).
MAX_UPLOAD = 16 * 1024 * 1024


@dataclass
class Services:
    """What the views use, reached as ``current_app.extensions["congress"]``."""

    config: ControllerConfig
    db: Database
    bus: LiveBus
    policy: AlarmPolicy
    limits: LoginLimits
    session_idle: dt.timedelta
    session_lifetime: dt.timedelta
    secure_cookies: bool
    tls: bool
    hasher: PasswordHasher
    extra: dict[str, Any] = field(default_factory=dict)

    def init_app(self, app: Flask) -> None:
        app.extensions["congress"] = self


def open_database(config: ControllerConfig) -> Database:
    """The configured database, its sessions carrying the audit key from the data directory."""
    key = audit.load_key(config.data_dir)
    return Database(config.database.url, info={audit.INFO_KEY: key})


def open_configured(path: str | os.PathLike) -> tuple[ControllerConfig, Database]:
    """Read the controller configuration file ``path`` and open its database (the commands' start)."""
    from congress.config import load_config

    config = load_config(path, ControllerConfig)
    return config, open_database(config)


def create_app(
    config: ControllerConfig,
    test_config: dict | None = None,
    *,
    db: Database | None = None,
    bus: LiveBus | None = None,
) -> Flask:
    """Build the controller page for ``config``; ``db``/``bus`` may be handed in (``run``, tests)."""
    from controller.web import guard, register_blueprints

    web_dir = Path(__file__).resolve().parent / "web"
    app = Flask("controller.web", root_path=str(web_dir), static_folder="static", template_folder="templates")
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD, JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)
    sec = config.security
    services = Services(
        config=config,
        db=db or open_database(config),
        bus=bus or LiveBus(max_clients=config.web.max_live_clients),
        policy=AlarmPolicy(
            silent_after_s=config.devices.silent_after_s, outbox_alarm=config.devices.outbox_alarm
        ),
        limits=LoginLimits(
            per_account=sec.login_failures_per_account,
            per_ip=sec.login_failures_per_ip,
            window=dt.timedelta(minutes=sec.login_window_minutes),
        ),
        session_idle=dt.timedelta(minutes=sec.session_idle_minutes),
        session_lifetime=dt.timedelta(hours=sec.session_max_hours),
        secure_cookies=sec.secure_cookies,
        tls=config.web.tls_cert is not None,
        hasher=make_hasher(sec.argon2_memory_kib, sec.argon2_time_cost),
    )
    services.init_app(app)
    services.bus.init_app(app)
    guard.init_app(app)
    register_blueprints(app)
    app.jinja_env.globals["venue"] = config.venue
    return app
