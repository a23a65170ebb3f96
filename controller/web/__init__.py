"""The controller page: one blueprint per area, each in its own module exposing ``bp``.

Every view carries :func:`controller.web.guard.requires` (or ``public``); see the permission table in
:mod:`controller.accounts.auth`. To add an area, append its module to :data:`BLUEPRINTS`.
"""

from __future__ import annotations

import importlib

from flask import Flask

BLUEPRINTS: tuple[str, ...] = (
    "controller.web.accounts.login",
    "controller.web.accounts.language",
    "controller.web.fonts",
    "controller.web.checkins.dashboard",
    "controller.web.checkins.projector",
    "controller.web.devices.health",
    "controller.web.checkins.lane",
    "controller.web.delegates.roster",
    "controller.web.audit.trail",
    "controller.web.accounts.users",
    "controller.web.accounts.account",
    "controller.web.voting.ballots",
    "controller.web.voting.keypads",
    "controller.web.voting.committee",
    "controller.web.voting.candidates",
    "controller.web.programme.views",
    "controller.web.documents.views",
    "controller.web.sites.overview",
    "controller.web.portal.views",
    "controller.web.portal.me",
    "controller.web.portal.programme",
    "controller.web.portal.notices",
    "controller.web.portal.feedback",
    "controller.web.portal.candidates",
    "controller.web.portal.staff",
    "controller.web.discussion.views",
)


def register_blueprints(app: Flask) -> None:
    from controller.web.params import BoundedInt

    app.url_map.converters["int"] = BoundedInt  # ids past 32 bits are a 404, not a database error
    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)
        if hasattr(module, "staff"):  # an area's staff pages beside its delegate-facing ones
            app.register_blueprint(module.staff)
