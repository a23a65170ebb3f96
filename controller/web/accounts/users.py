"""Accounts page for administrators (``users`` blueprint); logic in :mod:`controller.accounts.auth`.

An administrator cannot demote or disable their own account here (so the venue never locks itself
out); ``congress controller user`` on the server can.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from sqlalchemy import select

from congress.i18n import M_, N_
from controller.accounts import auth
from controller.app import services
from controller.storage.tables import Role, User
from controller.web.guard import Perm, requires
from controller.web.labels import label

bp = Blueprint("users", __name__)


def _db():
    return services().db


def _hasher():
    return services().hasher


def _render(message: str = "", error: str = "", status: int = 200):
    with _db().session() as s:
        users = list(s.scalars(select(User).order_by(User.name)))
        return render_template(
            "users.html", users=users, roles=list(Role), message=message, error=error
        ), status


@bp.route("/users")
@requires(Perm.MANAGE_USERS)
def page():
    a = request.args
    text = DONE.get(a.get("done", ""))
    role = label("role", a.get("role", "")) if a.get("role") else ""
    return _render(message=M_(text, name=a.get("name", "")[:64], role=role) if text else "")


#: What the page says after a change (``?done=<code>&name=...``), translated there.
DONE = {
    "added": N_("account %(name)s added"),
    "role": N_("%(name)s is now %(role)s"),
    "enabled": N_("%(name)s enabled"),
    "disabled": N_("%(name)s disabled"),
    "password": N_("password of %(name)s changed; their sessions were ended"),
}


def _done(code: str, name: str, **extra: str):
    return redirect(url_for("users.page", done=code, name=name, **extra))


@bp.route("/users/add", methods=["POST"])
@requires(Perm.MANAGE_USERS)
def add():
    f = request.form
    try:
        role = Role(f.get("role", ""))
        with _db().session() as s:
            auth.add_user(
                s, f.get("name", ""), role, f.get("password", ""), actor=g.user.name, hasher=_hasher()
            )
    except ValueError:
        return _render(error=N_("choose one of the roles"), status=400)
    except auth.AuthError as exc:
        return _render(error=exc.text, status=400)
    return _done("added", f.get("name", "").strip())


def _target(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise auth.AuthError(N_("no such account"))
    if user.id == g.user.id:
        raise auth.AuthError(N_("you cannot change your own role or lock yourself out here"))
    return user


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires(Perm.MANAGE_USERS)
def role(user_id: int):
    try:
        new = Role(request.form.get("role", ""))
        with _db().session() as s:
            u = _target(s, user_id)
            auth.set_role(s, u, new, actor=g.user.name)
            name = u.name
    except ValueError:
        return _render(error=N_("choose one of the roles"), status=400)
    except auth.AuthError as exc:
        return _render(error=exc.text, status=400)
    return _done("role", name, role=new.value)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@requires(Perm.MANAGE_USERS)
def active(user_id: int):
    enable = request.form.get("active") == "1"
    try:
        with _db().session() as s:
            u = _target(s, user_id)
            auth.set_active(s, u, enable, actor=g.user.name)
            name = u.name
    except auth.AuthError as exc:
        return _render(error=exc.text, status=400)
    return _done("enabled" if enable else "disabled", name)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires(Perm.MANAGE_USERS)
def password(user_id: int):
    try:
        with _db().session() as s:
            u = s.get(User, user_id)
            if u is None:
                raise auth.AuthError(N_("no such account"))
            auth.set_password(s, u, request.form.get("password", ""), actor=g.user.name, hasher=_hasher())
            name = u.name
    except auth.AuthError as exc:
        return _render(error=exc.text, status=400)
    return _done("password", name)
