"""The sites area's one service, built by ``create_app``: link states in, the overview out.

:class:`SitesService` holds the :class:`controller.sites.links.SiteLinks` the ingest feeds
(``on_link``) and answers the pages with :meth:`SitesService.overview`. Which site each door unit
stands at, and which sites exist, come from the venue CA folder the controller holds
(``index.json``, re-read when it changes); without one every unit counts as central.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path

from congress.errors import PKIError
from controller.checkins.attendance import QuorumPolicy
from controller.live import EventKind
from controller.sites.links import SiteLinks
from controller.sites.overview import Overview, SiteCount, overview, site_counts
from controller.storage.database import Database

log = logging.getLogger(__name__)


class SitesService:
    """Link states and the per-site overview; ``stale_after_s``: a unit report older than this (a few
    missed heartbeats) makes a backlog "as of" rather than current."""

    def __init__(self, db: Database, policy: QuorumPolicy, *, ca_dir: Path | None,
                 publish: Callable[[EventKind, dict], None] | None = None,
                 stale_after_s: float = 60.0) -> None:
        self.db, self.policy, self.ca_dir = db, policy, Path(ca_dir) if ca_dir else None
        self.links = SiteLinks(db, publish)
        self.stale_after_s = stale_after_s
        self._ca: tuple[int, dict[str, str], list[str]] | None = None

    def on_link(self, site: str, up: bool, at: dt.datetime) -> None:
        self.links.on_link(site, up, at)

    def _from_ca(self) -> tuple[dict[str, str], list[str]]:
        """``(unit -> site, site ids)`` from the CA index, cached until the file changes."""
        if self.ca_dir is None:
            return {}, []
        from congress import pki

        try:
            mtime = os.stat(self.ca_dir / "index.json").st_mtime_ns
            if self._ca is None or self._ca[0] != mtime:
                self._ca = (mtime, pki.unit_sites(self.ca_dir), pki.sites(self.ca_dir))
        except (OSError, PKIError) as exc:
            log.debug("no venue CA index for the sites overview: %s", exc)
            return {}, []
        return self._ca[1], self._ca[2]

    def overview(self) -> Overview:
        unit_sites, known = self._from_ca()
        with self.db.session() as s:
            return overview(s, unit_sites=unit_sites, known_sites=known, policy=self.policy,
                            stale_after_s=self.stale_after_s)

    def counts(self) -> list[SiteCount]:
        """The roll call per site now (what a session's roll-call snapshot records for every site)."""
        with self.db.session() as s:
            return site_counts(s)
