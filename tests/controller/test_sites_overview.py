"""Attendance per site and in total, one quorum, link states and honest backlogs (SQLite and PostgreSQL),
the sites page, its projector view and JSON, and the roster's ``site`` column."""

from __future__ import annotations

import datetime as dt

from controller.checkins.attendance import Passing, QuorumPolicy, apply_checkins
from controller.delegates.roster_csv import parse_roster
from controller.sites.links import SiteLinks
from controller.sites.overview import CENTRAL, overview, site_counts
from controller.sites.tables import Site
from controller.storage.tables import AuditEntry, CheckIn, CheckInMethod, Delegate, Passage, UnitHealth

NOW = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)


def populate(db) -> None:
    """Central: 4 delegates (2 in); hanoi: 3 (2 in, one of them not summoned); hue: 2 (0 in)."""
    people = [("C1", None, True, True), ("C2", None, True, True), ("C3", None, True, False),
              ("C4", None, True, False), ("H1", "hanoi", True, True), ("H2", "hanoi", False, True),
              ("H3", "hanoi", True, True), ("U1", "hue", True, False), ("U2", "hue", True, False)]
    with db.session() as s:
        for i, (did, site, summoned, _inside) in enumerate(people):
            s.add(Delegate(id=did, name=did, delegation="X", seat=f"S{i}", summoned=summoned, site=site))
        s.flush()
        for i, (did, _site, _summoned, inside) in enumerate(people):
            if not inside:
                continue
            row = CheckIn(unit_id="door-x", boot_id="b", seq=i + 1, delegate_id=did, passage=Passage.IN,
                          method=CheckInMethod.BADGE, event_at=NOW, received_at=NOW, digest="0" * 64)
            s.add(row)
            s.flush()
            apply_checkins(s, [Passing(row.id, did, Passage.IN, NOW, "door-x")])
        for unit, online, depth, age_s in (("door-h1", True, 3, 5), ("door-h2", True, 4, 9),
                                           ("door-u1", False, 12, 600)):
            s.add(UnitHealth(unit_id=unit, online=online, outbox_depth=depth,
                             last_seen=NOW - dt.timedelta(seconds=age_s)))
        s.add(UnitHealth(unit_id="door-c1", online=True, outbox_depth=0, last_seen=NOW))


UNITS = {"door-h1": "hanoi", "door-h2": "hanoi", "door-u1": "hue"}


def test_counts_per_site_and_one_quorum_over_all_sites(db):
    populate(db)
    with db.session() as s:
        counts = {c.site: (c.summoned, c.present) for c in site_counts(s)}
        assert counts == {CENTRAL: (4, 2), "hanoi": (2, 2), "hue": (2, 0)}  # H2 is not summoned
        o = overview(s, unit_sites=UNITS, known_sites=["hanoi", "hue", "danang"],
                     policy=QuorumPolicy.parse("majority"), now=NOW)
    by = {st.site: st for st in o.sites}
    assert [st.site for st in o.sites] == [CENTRAL, "danang", "hanoi", "hue"]
    assert (o.total_summoned, o.total_present) == (8, 4)
    assert o.quorum.summoned == 8 and o.quorum.required == 5 and not o.quorum.reached
    assert (by["hanoi"].units, by["hanoi"].units_online, by["hanoi"].backlog) == (2, 2, 7)
    assert by["hanoi"].backlog_at == NOW - dt.timedelta(seconds=9) and not by["hanoi"].stale
    assert by["hue"].backlog == 12 and by["hue"].stale  # reported 10 minutes ago: "at least, as of"
    assert by["danang"].backlog is None and by["danang"].link == "unknown" and by["danang"].summoned == 0
    assert by[CENTRAL].link == "local" and by[CENTRAL].backlog == 0 and not by[CENTRAL].behind
    assert set(o.as_dict()["behind"]) == {"hanoi", "hue"}


def test_link_states_are_kept_audited_and_announced(db):
    events = []
    links = SiteLinks(db, publish=lambda kind, data: events.append((kind, data)))
    t1, t2 = NOW, NOW + dt.timedelta(minutes=3)
    links.on_link("hanoi", True, t1)
    links.on_link("hanoi", False, t2)
    links.on_link("hanoi", False, t2 + dt.timedelta(seconds=30))  # a retained copy: no change
    with db.session() as s:
        row = s.get(Site, "hanoi")
        assert (row.link_up, row.link_since, row.heard_at) == (False, t2, t2 + dt.timedelta(seconds=30))
        audited = [a.action for a in s.query(AuditEntry).filter(AuditEntry.action == "sites.link")]
        o = overview(s, unit_sites=UNITS, known_sites=["hanoi"], policy=QuorumPolicy.parse("majority"),
                     now=t2)
    assert audited == ["sites.link", "sites.link"]
    assert [e[1]["up"] for e in events] == [True, False] and events[0][0] == "site"
    st = {x.site: x for x in o.sites}["hanoi"]
    assert st.link == "down" and st.link_since == t2 and st.behind


def test_sites_page_projector_and_json(app, client, login_as):
    from controller.app import services

    with app.app_context():
        svc = services()
        populate(svc.db)
        svc.sites.on_link("hanoi", True, NOW)
        svc.sites.on_link("hue", False, NOW)
        svc.sites._from_ca = lambda: (UNITS, ["hanoi", "hue"])  # the units' sites, as the CA says
    assert client.get("/api/sites").status_code in (302, 401)  # logged in only
    login_as("observer")
    data = client.get("/api/sites").get_json()
    rows = {r["site"]: r for r in data["sites"]}
    assert rows["hue"]["link"] == "down" and rows["hue"]["behind"] and rows["hanoi"]["link"] == "up"
    assert data["total"] == {"summoned": 8, "present": 4} and data["quorum"]["summoned"] == 8
    page = client.get("/sites").get_data(as_text=True)
    assert "Attendance across sites" in page and 'data-site="hue"' in page and "Central venue" in page
    proj = client.get("/sites/projector").get_data(as_text=True)
    assert "Quorum not reached" in proj and 'class="link down"' in proj
    # the projector says since when a link is down and how far each site is behind, as the staff page
    hue = proj.split('data-site="hue"', 1)[1].split("</tr>", 1)[0]
    hanoi = proj.split('data-site="hanoi"', 1)[1].split("</tr>", 1)[0]
    assert "link down since 16:30" in hue and "behind: at least 12" in hue  # venue time (UTC+7)
    assert 'class="link up"></td>' in hanoi  # nothing to say about a link that is up
    assert "behind: at least 7" in hanoi  # the units' reports are older than a minute by now
    vi = client.get("/sites/projector?lang=vi").get_data(as_text=True)
    assert "mất kết nối từ 16:30" in vi and "tồn đọng: ít nhất 12" in vi


def test_roster_site_column(tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text("id,name,site\nA1,An,hanoi\nA2,Binh,\nA3,Chi,bad site\n", encoding="utf-8")
    rows, problems = parse_roster(csv)
    assert [(r.id, r.site) for r in rows] == [("A1", "hanoi"), ("A2", None)]
    assert [(p.delegate_id, p.field) for p in problems] == [("A3", "site")]


def test_a_sessions_roll_call_includes_every_site(db):
    from controller.programme.agenda import Programme
    from controller.programme.importer import import_file
    from controller.programme.rollcall import RollCalls

    populate(db)
    programme = """[[day]]
date = 2026-12-02
title = "Ngày thứ nhất"

[[session]]
code = "S1"
day = 2026-12-02
title = "Phiên trù bị"
kind = "preparatory"
starts = "08:00"

[[item]]
number = "1"
session = "S1"
title = "Khai mạc"
"""
    import_file(Programme(db), programme.encode(), "toml", zone="UTC", actor="t")
    rc = RollCalls(db, QuorumPolicy.parse("majority"))
    rc.record_leave("U1", "S1", "ốm", actor="secretariat")
    data = rc.open_session("S1", actor="chair")
    assert (data["summoned"], data["present"]) == (8, 4)
    assert data["sites"] == [
        {"site": "", "summoned": 4, "present": 2, "excused": 0, "absent": 2},
        {"site": "hanoi", "summoned": 2, "present": 2, "excused": 0, "absent": 0},
        {"site": "hue", "summoned": 2, "present": 0, "excused": 1, "absent": 1},
    ]
    with db.session() as s:  # the snapshot keeps each delegate's site even if the roster moves them
        s.get(Delegate, "U2").site = "hanoi"
    assert rc.latest("S1")["sites"] == data["sites"]
