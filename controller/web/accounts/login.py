"""Login and logout (``auth`` blueprint)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, url_for

from controller import audit
from controller.accounts import auth
from controller.app import services
from controller.web.guard import PRE_COOKIE, SESSION_COOKIE, Perm, client_ip, public, requires, set_cookie

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: never bounce a fresh login to another site.
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("main.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    svc = services()
    error, status, retry = None, 200, 0
    if request.method == "POST":
        name, token = request.form.get("name", ""), None
        with svc.db.session() as s:  # a refusal is caught inside so that its attempt row commits
            try:
                user = auth.authenticate(
                    s, name, request.form.get("password", ""), client_ip(), svc.limits, hasher=svc.hasher
                )
                token = auth.open_session(s, user, client_ip())
            except auth.LoginRefused as exc:
                error, status, retry = exc.text, 429 if exc.throttled else 401, exc.retry_after
        if token:
            resp = redirect(_safe_next(request.args.get("next")))
            set_cookie(resp, SESSION_COOKIE, token, max_age=svc.session_lifetime)
            resp.delete_cookie(PRE_COOKIE, path="/")
            return resp
    headers = {"Retry-After": str(retry)} if retry else {}
    return render_template("login.html", error=error), status, headers


@bp.route("/logout", methods=["POST"])
@requires(Perm.VIEW_ATTENDANCE)
def logout():
    svc = services()
    with svc.db.session() as s:
        auth.close_session(s, request.cookies.get(SESSION_COOKIE, ""))
        audit.record(s, g.user.name, "logout", {"ip": client_ip()})
    resp = redirect(url_for("auth.login"))
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
