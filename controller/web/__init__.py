"""The controller page: one blueprint per area, each in its own module exposing ``bp``.

Every view carries :func:`controller.web.guard.requires` (or ``public``); see the permission table in
:mod:`controller.auth`. To add an area, append its module to :data:`BLUEPRINTS`.
"""

from __future__ import annotations

import importlib

from flask import Flask

BLUEPRINTS: tuple[str, ...] = (
    "controller.web.views_auth",
    "controller.web.views_main",
    "controller.web.views_devices",
    "controller.web.views_lane",
    "controller.web.views_delegates",
    "controller.web.views_audit",
    "controller.web.views_users",
    "controller.web.views_account",
    "controller.web.ballots_views",
    "controller.web.ballots_keypads",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
