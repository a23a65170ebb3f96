"""The portal's request guard: which delegate is asking, may they, is the request genuine.

The staff guard (:mod:`controller.web.guard`) lets every view marked ``delegate_view`` through
without a staff login and leaves the rest to this one, which runs before each ``/p/`` view:

1. the ``congress_portal`` cookie is looked up (:meth:`controller.portal.signin.PortalAuth.load`)
   -> ``g.delegate``; a staff login on the same browser plays no part here;
2. a view marked :func:`signed_in` without a delegate: a page redirects to the sign-in page, a script
   gets 401 ``{"signed_out": true}``; when the browser sent a cookie that is no longer good (signed out
   elsewhere, revoked by staff, expired) the answer also carries ``Clear-Site-Data`` so the browser
   drops the portal's cached documents and its service worker even if the page's script never runs;
3. every state-changing method needs the session's CSRF token (``X-CSRF-Token`` or the form field
   ``csrf_token``), or before sign-in a per-browser token in its own cookie; a foreign ``Origin`` is
   refused as well.

Cookies are HttpOnly and SameSite=Strict, Secure unless ``[security] secure_cookies = false``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from controller.app import services
from controller.documents.delegate_access import PORTAL_COOKIE
from controller.web.guard import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, set_cookie

DEVICE_COOKIE = "congress_portal_device"
PRE_COOKIE = "congress_portal_pre"
#: What a browser must forget when its session is gone: cached documents, the service worker.
CLEAR_SITE = '"cache", "storage"'


def blueprint(name: str, import_name: str, url_prefix: str = "/p") -> Blueprint:
    """A blueprint of the portal, under this guard (every view must still be a ``delegate_view``)."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(before)
    bp.after_request(after)
    return bp


def signed_in(view: Callable) -> Callable:
    """Mark a portal view as needing a signed-in delegate."""
    view.needs_delegate = True
    return view


def csrf_token() -> str:
    user = g.get("delegate")
    if user is not None:
        return user.csrf_token
    if "portal_pre" not in g:
        g.portal_pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    return g.portal_pre


def _check_csrf() -> str | None:
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        return _("request from a foreign origin refused")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    user = g.get("delegate")
    expected = user.csrf_token if user is not None else request.cookies.get(PRE_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _("missing or wrong CSRF token; reload the page and try again")
    return None


def before() -> Response | None:
    token = request.cookies.get(PORTAL_COOKIE, "")
    g.delegate = services().portal.auth.load(token) if token else None
    g.portal_stale = bool(token) and g.delegate is None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "needs_delegate", False) and g.delegate is None:
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(url_for("portal.signin_page"))
        return jsonify(error=_("sign in first"), signed_out=True), 401
    if request.method not in SAFE_METHODS:
        problem = _check_csrf()
        if problem:
            return jsonify(error=problem), 400
    return None


def after(resp: Response) -> Response:
    if g.get("portal_stale"):
        resp.headers["Clear-Site-Data"] = CLEAR_SITE
        resp.delete_cookie(PORTAL_COOKIE, path="/")
    if g.get("portal_pre") and g.get("delegate") is None and not request.cookies.get(PRE_COOKIE):
        set_cookie(resp, PRE_COOKIE, g.portal_pre)
    return resp
