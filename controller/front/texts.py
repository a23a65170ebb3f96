"""The front's own answers in the person's language: a copy that does not exist, a live feed asked for
without a sign-in. The language is chosen as the Flask app chooses it (``?lang=``, the device's
``congress_lang`` cookie, the venue's language: there are no staff accounts on this port), from the
same compiled catalogue (:func:`controller.web.i18n.catalogue`)."""

from __future__ import annotations

from aiohttp import web

from congress.i18n import Message
from controller.web.i18n import LANG_COOKIE, catalogue, choose_language


class Texts:
    """Translates the front's messages for a request; ``venue_language`` is ``[venue] language``."""

    def __init__(self, venue_language: str) -> None:
        self.venue_language = venue_language

    def language(self, request: web.Request) -> str:
        return choose_language(request.query.get("lang"), request.cookies.get(LANG_COOKIE), None,
                               self.venue_language)

    def say(self, request: web.Request, message: Message) -> str:
        t = catalogue(self.language(request))
        return message.translate(t.gettext, t.ngettext)
