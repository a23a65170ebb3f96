"""Attendance per site and in total, one quorum over all sites, and each site's link and backlog.

:func:`site_counts` is the per-site roll call (summoned, present) that a session's roll-call snapshot
stores for every site (the programme area calls it when a session opens); :func:`overview` adds each
site's link state and backlog for the staff page and the projector.

**Backlog, honestly.** The central controller cannot see into a site: what it knows is what the
site's door units last said about themselves. Every unit's heartbeat carries its outbox depth (check-ins
signed but not yet acknowledged by this controller), so a site's backlog is the sum over its units
of their last reported depth, with the time of the oldest of those reports. While the link is up the
reports are seconds old and the number is exact to within a heartbeat; while it is down no report
can arrive, so the page shows the last number as "at least N, as of HH:MM" (check-ins made since
then are not in it). The link state itself is Mosquitto's bridge notification: ``1`` when the site's
bridge connects, ``0`` as its will when the central broker loses it (a silent stall is noticed after
1.5 x the bridge keep-alive).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.checkins import attendance
from controller.sites.tables import Site
from controller.storage.database import utcnow
from controller.storage.tables import Delegate, Presence, UnitHealth

#: The row of delegates and units that belong to no satellite site.
CENTRAL = ""


@dataclass(frozen=True)
class SiteCount:
    """One site's roll call: delegates summoned there and how many of them are present."""

    site: str  # CENTRAL for the central venue
    summoned: int
    present: int


@dataclass
class SiteState:
    """One row of the sites page."""

    site: str
    name: str
    summoned: int = 0
    present: int = 0
    link: str = "unknown"  # up, down, unknown (never heard); "local" for the central venue
    link_since: dt.datetime | None = None
    units: int = 0
    units_online: int = 0
    backlog: int | None = None  # None: no unit has reported yet
    backlog_at: dt.datetime | None = None  # the oldest report the backlog is summed from
    stale: bool = False  # the backlog is older than the heartbeats should be (link down or units silent)

    @property
    def behind(self) -> bool:
        return self.link == "down" or bool(self.backlog)

    def as_dict(self) -> dict:
        return asdict(self) | {"behind": self.behind}


@dataclass
class Overview:
    sites: list[SiteState] = field(default_factory=list)
    total_summoned: int = 0
    total_present: int = 0
    quorum: attendance.QuorumStatus | None = None

    def as_dict(self) -> dict:
        return {"sites": [s.as_dict() for s in self.sites], "total": {
            "summoned": self.total_summoned, "present": self.total_present},
            "quorum": self.quorum.as_dict() if self.quorum else None,
            "behind": [s.site for s in self.sites if s.behind]}


def site_counts(session: Session) -> list[SiteCount]:
    """Summoned and present (summoned delegates in the hall) per site, the central venue first.

    Counts summoned delegates only, as the quorum does; a delegate's site is ``delegates.site``."""
    summoned = dict(session.execute(
        select(Delegate.site, func.count()).where(Delegate.summoned).group_by(Delegate.site)).all())
    present = dict(session.execute(
        select(Delegate.site, func.count()).join(Presence, Presence.delegate_id == Delegate.id)
        .where(Delegate.summoned, Presence.inside.is_(True)).group_by(Delegate.site)).all())
    keys = sorted({*summoned, *present}, key=lambda k: (k is not None, k or ""))
    return [SiteCount(k or CENTRAL, summoned.get(k, 0), present.get(k, 0)) for k in keys]


def overview(session: Session, *, unit_sites: dict[str, str], known_sites: list[str],
             policy: attendance.QuorumPolicy, stale_after_s: float = 60.0,
             now: dt.datetime | None = None) -> Overview:
    """Every site (those the CA issued, those delegates attend, those whose link was heard), the central
    venue first; ``unit_sites`` maps each door unit to its site (units absent are central)."""
    now = now or utcnow()
    rows = {r.id: r for r in session.scalars(select(Site))}
    states: dict[str, SiteState] = {CENTRAL: SiteState(CENTRAL, "", link="local")}
    for sid in sorted({*known_sites, *rows}):
        r = rows.get(sid)
        st = SiteState(sid, r.name if r else "")
        if r is not None and r.link_up is not None:
            st.link, st.link_since = ("up" if r.link_up else "down"), r.link_since
        states[sid] = st
    for c in site_counts(session):
        st = states.setdefault(c.site, SiteState(c.site, ""))
        st.summoned, st.present = c.summoned, c.present
    for unit, online, depth, seen in session.execute(
            select(UnitHealth.unit_id, UnitHealth.online, UnitHealth.outbox_depth, UnitHealth.last_seen)):
        site = unit_sites.get(unit, CENTRAL)
        st = states.setdefault(site, SiteState(site, ""))
        st.units += 1
        st.units_online += bool(online)
        if depth is not None:
            st.backlog = (st.backlog or 0) + depth
            if seen is not None and (st.backlog_at is None or seen < st.backlog_at):
                st.backlog_at = seen
    for st in states.values():
        old = st.backlog_at is not None and (now - st.backlog_at).total_seconds() > stale_after_s
        st.stale = st.backlog is not None and (st.link == "down" or old)
    central = states[CENTRAL]
    if not (central.summoned or central.present or central.units) and len(states) > 1:
        del states[CENTRAL]  # every delegate and unit is at a site: no central row
    out = Overview(sites=list(states.values()))
    out.total_summoned = sum(s.summoned for s in out.sites)
    out.total_present = sum(s.present for s in out.sites)
    out.quorum = attendance.quorum(session, policy)
    return out
