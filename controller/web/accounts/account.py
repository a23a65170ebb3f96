"""Own account (``account`` blueprint): every role may change its own password.

The current password is asked again, so a borrowed, still-open session cannot lock its owner out;
the change ends every session of the account, this one included, and the owner logs in again.
"""

from __future__ import annotations

from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, g, redirect, render_template, request, url_for

from congress.i18n import N_
from controller.accounts import auth
from controller.app import services
from controller.storage.tables import User
from controller.web.guard import SESSION_COOKIE, Perm, requires

bp = Blueprint("account", __name__)


@bp.route("/account")
@requires(Perm.VIEW_ATTENDANCE)
def page():
    return render_template("account.html", error="")


@bp.route("/account/password", methods=["POST"])
@requires(Perm.VIEW_ATTENDANCE)
def password():
    svc = services()
    f = request.form
    if f.get("new", "") != f.get("repeat", ""):
        return render_template("account.html", error=N_("the two new passwords differ")), 400
    with svc.db.session() as s:
        user = s.get(User, g.user.id)
        try:
            svc.hasher.verify(user.password_hash, f.get("current", ""))
        except (VerificationError, InvalidHashError):
            return render_template("account.html", error=N_("the current password is wrong")), 400
        try:
            auth.set_password(s, user, f.get("new", ""), actor=user.name, hasher=svc.hasher)
        except auth.AuthError as exc:
            return render_template("account.html", error=exc.text), 400
    resp = redirect(url_for("auth.login"))
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
