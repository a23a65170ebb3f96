"""Each site's link to the central venue, from its bridge's notifications, kept in the ``sites`` table.

:class:`SiteLinks` is the ingest's ``on_link``: the ingest thread calls :meth:`SiteLinks.on_link` with
``(site, up, at)`` whenever the central broker delivers a bridge state (``congress/<venue>/site/<site>/link``,
retained: the controller also gets every site's current state each time it subscribes). A change of
state updates the site's row (``link_up``, ``link_since``), is audited, and goes to the live page as a
``site`` event; a repeated state (a retained copy after a reconnection) only updates ``heard_at``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from controller import audit
from controller.live import EventKind
from controller.sites.tables import Site
from controller.storage.database import Database

log = logging.getLogger(__name__)


class SiteLinks:
    """See the module docstring; ``publish(kind, data)`` is the live bus's."""

    def __init__(self, db: Database, publish: Callable[[EventKind, dict], None] | None = None) -> None:
        self.db, self.publish = db, publish

    def on_link(self, site: str, up: bool, at: dt.datetime) -> None:
        with self.db.session() as s:
            row = s.get(Site, site)
            if row is None:
                row = Site(id=site, name="")
                s.add(row)
            changed = row.link_up is not up
            row.heard_at = at
            if changed:
                row.link_up, row.link_since = up, at
                audit.record(s, "system", "sites.link", {"site": site, "up": up})
        if not changed:
            return
        (log.info if up else log.warning)("site %s: link %s", site, "up" if up else "DOWN")
        if self.publish is not None:
            self.publish(EventKind.SITE, {"site": site, "up": up, "since": at.isoformat()})
