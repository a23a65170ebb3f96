"""The delegates' portal on the web (``portal`` blueprint, ``/p/``): sign-in, the app shell, its API.

Pages: ``/p/signin`` (scan the badge with the camera, or type the code printed under it, then the
PIN; at the first sign-in the delegate chooses it), ``/p/pair`` (staff pair a seat-bound tablet),
``/p/`` (the app: a shell the page's script fills from the JSON API, cached by the service worker for
offline reading). Also ``/p/manifest.webmanifest``, ``/p/sw.js`` (scope ``/p/``), ``/p/static/...``
and ``/p/events``, the delegate's live stream (the tablet listener serves it natively; this is the
same stream on the staff port, through the live bus). Everything here is a ``delegate_view``: no
staff route is reachable with a portal session (tests walk the URL map to hold that).
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
    stream_with_context,
    url_for,
)
from flask_babel import get_translations
from flask_babel import gettext as _

from controller.app import services
from controller.documents.delegate_access import PORTAL_COOKIE, reader_for
from controller.documents.library import DocumentError, NotFound
from controller.portal.signin import LIFETIME, PinWait, SignInError
from controller.web.guard import client_ip, delegate_view, set_cookie
from controller.web.i18n import language, script_msgids, translate
from controller.web.portal import events
from controller.web.portal.guard import DEVICE_COOKIE, after, before, csrf_token, signed_in

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
I18N = "portal_i18n"
#: Camera for the badge scanner, on the portal's own pages only.
PERMISSIONS = "camera=(self), microphone=(), geolocation=()"

bp = Blueprint("portal", __name__, url_prefix="/p", template_folder="templates")
bp.before_request(before)
bp.after_request(after)


@bp.record_once
def _strings(state) -> None:
    state.app.extensions[I18N] = (script_msgids(STATIC), {})


@bp.app_context_processor
def _globals() -> dict:
    return {"portal_csrf": csrf_token, "portal_messages": js_messages}


def js_messages() -> dict:
    """The portal scripts' strings in the request's language, the zone and the language."""
    lang = language()
    (singles, plurals), cache = current_app.extensions[I18N]
    if lang not in cache:
        t = get_translations()
        cache[lang] = {
            "lang": lang,
            "tz": services().config.venue.timezone,
            "nplurals": 1 if lang == "vi" else 2,
            "messages": {s: t.gettext(s) for s in singles},
            "plurals": {s: [t.ngettext(s, p, 1), t.ngettext(s, p, 2)] for s, p in plurals},
        }
    return cache[lang]


def _page(template: str, **kw) -> Response:
    resp = Response(render_template(template, **kw), mimetype="text/html")
    resp.headers["Permissions-Policy"] = PERMISSIONS
    return resp


def _error(exc: SignInError, status: int = 400):
    body = {"error": translate(exc.text)}
    if isinstance(exc, PinWait):
        body["retry_after"] = exc.seconds
        return jsonify(body), 429, {"Retry-After": str(exc.seconds)}
    return jsonify(body), status


# --- assets ---------------------------------------------------------------------------------------


@bp.route("/static/<path:filename>")
@delegate_view
def asset(filename: str):
    resp = send_from_directory(STATIC, filename, max_age=3600)
    if filename.endswith(".mjs"):
        resp.mimetype = "text/javascript"
    return resp


@bp.route("/sw.js")
@delegate_view
def service_worker():
    resp = send_from_directory(STATIC, "sw.js", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/p/"
    return resp


@bp.route("/manifest.webmanifest")
@delegate_view
def manifest():
    svc = services()
    return jsonify({
        "name": _("%(venue)s: delegates", venue=svc.config.venue.name or svc.config.venue.id),
        "short_name": _("Congress"),
        "lang": language(),
        "start_url": url_for("portal.home"),
        "scope": "/p/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f4f1ea",
        "theme_color": "#7a1f1f",
        "icons": [{"src": url_for("portal.asset", filename="icon.svg"), "sizes": "any",
                   "type": "image/svg+xml", "purpose": "any"}],
    }), 200, {"Content-Type": "application/manifest+json"}


# --- sign-in ----------------------------------------------------------------------------------------


@bp.route("/signin")
@delegate_view
def signin_page():
    auth = services().portal.auth
    tablet = auth.tablet(request.cookies.get(DEVICE_COOKIE))
    has_pin = bool(tablet and tablet.delegate_id and auth.status(tablet.delegate_id)["has_pin"])
    return _page("portal/signin.html", tablet=tablet, seat_has_pin=has_pin, signed_in=g.delegate is not None)


@bp.route("/signin/check", methods=["POST"])
@delegate_view
def signin_check():
    """After the badge was scanned or its code typed: whose it is and whether a PIN is set."""
    auth = services().portal.auth
    data = request.get_json(silent=True) or {}
    try:
        delegate_id = auth.identify(str(data.get("badge", "")))
    except SignInError as exc:
        return _error(exc, 404)
    return jsonify(auth.status(delegate_id))


@bp.route("/signin", methods=["POST"])
@delegate_view
def signin():
    auth = services().portal.auth
    data = request.get_json(silent=True) or request.form
    device = request.cookies.get(DEVICE_COOKIE)
    badge = str(data.get("badge", ""))
    if data.get("seat") and not badge:  # a seat-bound tablet: the delegate the roster seats there
        tablet = auth.tablet(device)
        if tablet is None or tablet.delegate_id is None:
            return jsonify(error=_("nobody is seated here on the roster; scan your badge")), 400
        badge = auth.code_for(tablet.delegate_id) or ""
    try:
        token, user = auth.sign_in(badge, str(data.get("pin", "")), new_pin=bool(data.get("new_pin")),
                                   device_token=device, ip=client_ip(),
                                   user_agent=request.headers.get("User-Agent", ""))
    except SignInError as exc:
        return _error(exc)
    resp = jsonify(ok=True, next=url_for("portal.home"), name=user.name)
    set_cookie(resp, PORTAL_COOKIE, token, max_age=LIFETIME)
    g.portal_stale = False
    return resp


@bp.route("/signout", methods=["POST"])
@delegate_view
@signed_in
def signout():
    services().portal.auth.sign_out(g.delegate)
    resp = jsonify(ok=True, next=url_for("portal.signin_page"))
    resp.delete_cookie(PORTAL_COOKIE, path="/")
    # The browser forgets every cached document and the service worker, whatever the script does.
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp


@bp.route("/pair", methods=["GET", "POST"])
@delegate_view
def pair():
    """Bind this tablet to a seat with the one-time code from the staff page."""
    auth = services().portal.auth
    if request.method == "GET":
        return _page("portal/pair.html", tablet=auth.tablet(request.cookies.get(DEVICE_COOKIE)))
    data = request.get_json(silent=True) or request.form
    try:
        token = auth.pair(str(data.get("code", "")))
    except SignInError as exc:
        return _error(exc)
    resp = jsonify(ok=True, next=url_for("portal.signin_page"))
    set_cookie(resp, DEVICE_COOKIE, token, max_age=LIFETIME * 26)  # about a year
    return resp


# --- the app ----------------------------------------------------------------------------------------


@bp.route("/")
@delegate_view
@signed_in
def home():
    return _page("portal/app.html", me=g.delegate)


@bp.route("/api/me")
@delegate_view
@signed_in
def me():
    u = g.delegate
    return jsonify(id=u.delegate_id, name=u.name, delegation=u.delegation, seat=u.seat, session=u.public_id)


@bp.route("/api/pin", methods=["POST"])
@delegate_view
@signed_in
def change_pin():
    data = request.get_json(silent=True) or {}
    try:
        services().portal.auth.change_pin(g.delegate, str(data.get("old", "")), str(data.get("new", "")))
    except SignInError as exc:
        return _error(exc)
    return jsonify(ok=True)


@bp.route("/api/documents/<ref>/printed", methods=["POST"])
@delegate_view
@signed_in
def printed(ref: str):
    """The reader printed ``{"pages": N}`` pages of the current version (for the staff's statistics)."""
    svc = services()
    key = svc.documents.key
    reader = reader_for(
        request, svc.db, key.public_key() if key else None, svc.config.venue.id, svc.documents.groups_of
    )
    data = request.get_json(silent=True)
    pages = data.get("pages") if isinstance(data, dict) else None
    try:
        svc.documents.record_print(reader, ref, pages)
    except NotFound as exc:
        return jsonify(error=translate(exc.text)), 404
    except DocumentError as exc:
        return jsonify(error=translate(exc.text)), 400
    return jsonify(ok=True)


@bp.route("/events")
@delegate_view
@signed_in
def live():
    """The delegate's live stream on the staff port (the tablet listener serves the same natively)."""
    svc = services()
    sub = svc.bus.subscribe()
    if sub is None:
        return jsonify(error="the live feed is full; the page polls instead"), 503
    user = g.delegate
    body = events.stream(svc.bus, sub, user.delegate_id,
                         lambda: svc.portal.auth.still_valid(user.session_id))
    return Response(stream_with_context(body), mimetype="text/event-stream",
                    headers={"X-Accel-Buffering": "no"})
