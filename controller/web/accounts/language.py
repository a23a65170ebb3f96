"""The language switch on every page (``language`` blueprint): ``POST /language``.

It sets the device's language cookie and, for a logged-in person, the account's language, then goes
back to the page it came from. See :mod:`controller.web.i18n` for which choice wins.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, redirect, request

from controller.app import services
from controller.web.accounts.login import _safe_next
from controller.web.guard import public, set_cookie
from controller.web.i18n import LANG_COOKIE, LANGUAGES

bp = Blueprint("language", __name__)


@bp.route("/language", methods=["POST"])
@public
def switch():
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    user = g.get("user")
    if user is not None:
        from controller.storage.tables import User

        with services().db.session() as s:
            row = s.get(User, user.id)
            if row is not None:
                row.language = lang
    resp = redirect(_safe_next(request.form.get("next")))
    set_cookie(resp, LANG_COOKIE, lang, max_age=dt.timedelta(days=365))
    return resp
