"""Request guard: who is asking, may they, is the request genuine; and the security headers.

Every view is marked with :func:`requires` (a :class:`controller.accounts.auth.Perm`) or :func:`public`. The
``before_request`` hook denies any endpoint that carries neither, so a new route cannot be reachable
by accident; the tests walk the app's URL map to hold every route to this. Order of checks:

1. the session cookie is looked up (:func:`controller.accounts.auth.load_session`) -> ``g.user``;
2. anonymous on a protected route: HTML pages redirect to the login page, everything else gets 401;
3. a role without the permission gets 403;
4. any state-changing method (POST, PUT, PATCH, DELETE) needs the CSRF token, from the form field
   ``csrf_token`` or the ``X-CSRF-Token`` header (fetch); before login a per-browser token in its own
   cookie plays that part. A foreign ``Origin`` is refused as well.

Cookies are HttpOnly and SameSite=Strict, Secure unless ``[security] secure_cookies = false``. Every
response gets a CSP without inline script, ``X-Frame-Options: DENY``, ``nosniff``, a strict referrer
policy, and HSTS when the page is served over TLS.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from controller.accounts import auth
from controller.accounts.auth import Perm  # re-exported for the views
from controller.app import services
from controller.documents.delegate_access import PORTAL_COOKIE

log = logging.getLogger(__name__)

SESSION_COOKIE = "congress_session"
PRE_COOKIE = "congress_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CACHEABLE = frozenset({"static", "fonts.file", "portal.asset"})  # everything else is no-store
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

#: On every response (the tablet front, :mod:`controller.front`, sends them on its own answers too).
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
#: Set in the WSGI environ of every request the tablet front (:mod:`controller.front`) passes to the
#: app: its error pages are the portal's, linking to the portal (no staff page exists on that port).
FRONT_ENVIRON = "congress.front"
HSTS = "max-age=31536000"


def requires(perm: Perm) -> Callable:
    """Mark a view as needing ``perm`` (checked in ``before_request``)."""

    def mark(view: Callable) -> Callable:
        view.permission = perm
        return view

    return mark


def public(view: Callable) -> Callable:
    """Mark a view as reachable without logging in (the login page only)."""
    view.public = True
    return view


def delegate_view(view: Callable) -> Callable:
    """Mark a view of the delegates' portal (``/p/``): no staff login; the portal's own guard
    (:mod:`controller.web.portal.guard`) checks its session and CSRF token instead."""
    view.public = True
    view.portal = True
    return view


def permission_of(app: Flask, endpoint: str) -> Perm | bool | None:
    """The view's permission, ``True`` for public views, ``None`` when unmarked (denied)."""
    if endpoint == "static":
        return True
    view = app.view_functions.get(endpoint)
    if getattr(view, "public", False):
        return True
    return getattr(view, "permission", None)


def csrf_token() -> str:
    """The token forms and scripts must send back (the session's, or the pre-login one)."""
    ws = g.get("websession")
    if ws is not None:
        return ws.csrf_token
    if "pre_token" not in g:
        g.pre_token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    return g.pre_token


def client_ip() -> str:
    """The client's address: the peer's, or, when the peer is one of ``[security] trusted_proxies``,
    the nearest untrusted address of ``X-Forwarded-For`` (read from the right, as each proxy appends
    its peer; entries further left are the client's own say and are never believed)."""
    peer = request.remote_addr or "-"
    trusted = _trusted_networks(tuple(services().config.security.trusted_proxies))
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: take the proxy's own address rather than a guess
        if not any(address in net for net in trusted):
            return str(address)
    return peer


@functools.lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _is_trusted(peer: str, trusted: tuple) -> bool:
    try:
        return any(ipaddress.ip_address(peer) in net for net in trusted)
    except ValueError:
        return False


def _wants_html() -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("Accept", "")


def _titles() -> dict[int, str]:
    return {
        400: _("The request was refused"),
        403: _("You may not open this page"),
        404: _("This page does not exist"),
        405: _("This action is not possible here"),
        413: _("The upload is too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong on the controller"),
    }


def error_page(status: int, message: str) -> Response:
    """The styled error page (in the person's language) or, for scripts, ``{"error": message}``.

    On the tablet front it is the portal's page, linking to the portal's sign-in (or its home, with a
    portal session cookie), never to the staff login or dashboard, which do not exist there."""
    if "text/html" in request.headers.get("Accept", ""):
        title = _titles().get(status, _("Error %(status)s", status=status))
        if request.environ.get(FRONT_ENVIRON):
            if status == 404:
                message = _("Check the address, or go back to the congress app.")
            page = render_template("portal/error.html", status=status, title=title, message=message,
                                   signed_in=bool(request.cookies.get(PORTAL_COOKIE)))
        else:
            page = render_template("error.html", status=status, title=title, message=message)
        return Response(page, status=status, mimetype="text/html")
    return jsonify(error=message), status


def _deny(status: int, message: str) -> Response:
    if status == 401 and _wants_html():
        if request.environ.get(FRONT_ENVIRON):  # no staff login on the tablet front
            return redirect(url_for("portal.signin_page"))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return error_page(status, message)


def _http_error(exc: HTTPException) -> Response:
    messages = {
        404: _("Check the address, or use the menu above."),
        405: _("Use the buttons on the page instead of typing the address."),
        400: _("The form was incomplete or out of date; reload the page and try again."),
    }
    return error_page(exc.code or 500, messages.get(exc.code or 500, exc.description or ""))


def _server_error(exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return error_page(500, _("The technicians can find the details in the controller's log."))


def _check_csrf() -> str | None:
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        return _("request from a foreign origin refused")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    ws = g.get("websession")
    expected = ws.csrf_token if ws is not None else request.cookies.get(PRE_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _("missing or wrong CSRF token; reload the page and try again")
    return None


def _before() -> Response | None:
    app = current_app
    svc = app.extensions["congress"]
    g.user = g.websession = None
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        with svc.db.session() as s:
            found = auth.load_session(s, token, idle=svc.session_idle, lifetime=svc.session_lifetime)
            if found:
                g.websession, g.user = found
                s.expunge_all()
    if request.endpoint is None:
        return None  # 404/405: Flask answers
    perm = permission_of(app, request.endpoint)
    if perm is None:
        log.error("route %s has no permission; denied to everyone", request.endpoint)
        return _deny(403, _("this page has no access rule; it is closed"))
    if perm is not True:
        if g.user is None:
            return _deny(401, _("log in first"))
        if not auth.allowed(g.user.role, perm):
            from controller.web.labels import label

            return _deny(403, _("the %(role)s role may not do this", role=label("role", g.user.role)))
    if getattr(app.view_functions.get(request.endpoint), "portal", False):
        return None  # the portal's guard checks its own session and CSRF token
    if request.method not in SAFE_METHODS:
        problem = _check_csrf()
        if problem:
            log.warning("CSRF check failed for %s %s from %s", request.method, request.path, client_ip())
            return _deny(400, problem)
    return None


def _after(resp: Response) -> Response:
    svc = services()
    h = resp.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.update(SECURITY_HEADERS)
    # The portal's sign-in page opens the camera to read a badge; it sets its own policy.
    h.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.endpoint not in CACHEABLE and "no-store" not in h.get("Cache-Control", ""):
        h["Cache-Control"] = "no-store"
    if svc.tls:
        h["Strict-Transport-Security"] = HSTS
    if g.get("pre_token") and g.get("websession") is None and not request.cookies.get(PRE_COOKIE):
        set_cookie(resp, PRE_COOKIE, g.pre_token)
    return resp


def set_cookie(resp: Response, name: str, value: str, *, max_age: dt.timedelta | None = None) -> None:
    svc = services()
    resp.set_cookie(
        name,
        value,
        httponly=True,
        samesite="Strict",
        secure=svc.secure_cookies,
        path="/",
        max_age=None if max_age is None else int(max_age.total_seconds()),
    )


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["can"] = lambda perm: (
        g.get("user") is not None and auth.allowed(g.user.role, Perm(perm))
    )
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.register_error_handler(413, lambda e: _deny(413, _("the upload is too large; split the file")))
    for code in (400, 404, 405):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(500, _server_error)
