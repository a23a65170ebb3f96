"""The page's fonts, served from the library's own copy (``congress.fonts``): ``/fonts/<file>``.

Public (the login page needs them too) and cached by the browser for a day; only the files that
:func:`congress.fonts.files` lists are served. ``static/fonts.css`` declares them.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from congress import fonts
from controller.web.guard import public

bp = Blueprint("fonts", __name__)
MAX_AGE_S = 24 * 3600


@bp.route("/fonts/<name>")
@public
def file(name: str):
    for found in fonts.files().values():
        if found.name == name:
            resp = send_file(found, mimetype="font/ttf", max_age=MAX_AGE_S, conditional=True)
            resp.headers["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
            return resp
    abort(404)
