"""While a ballot is open: what the live feed carries (counts only: a secret ballot's events never name
or number a delegate, nor carry a choice) and who was issued a paper ballot, listed for the staff on
the ballot page of a secret ballot too (who received one is not secret; how they voted is)."""

from __future__ import annotations

import json
import time

from congress.keypads.protocol import VoteFrame

from .test_web import (
    client_as,
    create,
    web,  # noqa: F401  (the fixture)
)

#: Everything a ballot's live event may carry while it is open (docs/elections.md).
EVENT_KEYS = {"ballot", "status", "received", "eligible", "closes_at"}


def _events(sub) -> list:
    events = []
    while (e := sub.get(timeout=0.1)) is not None:
        events.append(e)
    sub.close()
    return events


def _until_received(svc, sub, events: list, n: int, timeout_s: float = 10.0) -> None:
    """Collect events until one says ``n`` received: progress held back by the rate limit (twice a
    second per ballot) goes out with the ballot timer's ``flush_progress``, called here instead."""
    deadline = time.monotonic() + timeout_s
    while not any(e.data.get("received") == n for e in events):
        assert time.monotonic() < deadline, [e.data for e in events]
        svc.ballots.flush_progress()
        if (e := sub.get(timeout=0.1)) is not None:
            events.append(e)


def _names_and_ids(svc) -> list[str]:
    from sqlalchemy import select

    from controller.storage.tables import Delegate

    with svc.db.session() as s:
        rows = s.execute(select(Delegate.id, Delegate.name)).all()
    return [v for row in rows for v in row]


def test_live_events_of_a_secret_ballot_name_nobody(web):  # noqa: F811
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    sub, seen = svc.bus.subscribe(), []
    create(chair, token, title="Bầu Ban kiểm phiếu", kind="election", candidates="An\nBình\nChâu",
           seats="2", secrecy="secret", rule="simple", base="cast")
    chair.post("/ballots/1/open", data={"csrf_token": token, "minutes": "5"})
    for k, choices in ((1, {1, 2}), (2, {3}), (3, {2})):  # one by one, as they arrive from the hall
        with svc.db.session() as s:
            svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset(choices))])
        svc.ballots.votes_committed({1})
    _until_received(svc, sub, seen, 3)
    r = chair.post("/ballots/1/paper/issue", data={"csrf_token": token, "delegate": "d0005"})
    assert r.status_code == 302
    _until_received(svc, sub, seen, 4)  # the paper ballot issued goes out as a vote received
    chair.post("/ballots/1/extend", data={"csrf_token": token, "minutes": "1"})
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})

    events = [e for e in seen + _events(sub) if e.kind == "ballot"]
    assert {e.data.get("status") for e in events} >= {"draft", "open", "closed"}
    assert any("closes_at" in e.data for e in events)  # the extension
    people = _names_and_ids(svc)
    for e in events:
        assert set(e.data) <= EVENT_KEYS, e.data
        text = json.dumps(e.data, ensure_ascii=False)
        assert not [p for p in people if p in text], e.data
        assert not [o for o in ("An", "Bình", "Châu") if o in text], e.data  # no option, no choice


def test_live_events_of_a_named_ballot_carry_counts_only(web):  # noqa: F811
    """The ballot events reach every delegate's tablet too: names go to the staff pages over the API."""
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    obs, _ = client_as(web, "observer")
    sub = svc.bus.subscribe()
    create(chair, token, title="Named motion")
    chair.post("/ballots/1/open", data={"csrf_token": token})
    with svc.db.session() as s:
        svc.ballots.record_votes(s, [VoteFrame(k, 1, 1, frozenset({1})) for k in (1, 2)])
    svc.ballots.votes_committed({1})
    people = _names_and_ids(svc)
    for e in _events(sub):
        assert set(e.data) <= EVENT_KEYS and not [p for p in people if p in json.dumps(e.data)], e.data
    progress = obs.get("/api/ballots/1").get_json()["progress"]
    assert progress["not_voted"] == ["Delegate 3", "Delegate 4", "Delegate 5"]


def test_paper_ballots_issued_are_listed_for_the_staff(web):  # noqa: F811
    chair, token = client_as(web, "chair")
    obs, _ = client_as(web, "observer")
    anon, _ = client_as(web, None)
    create(chair, token, title="Secret motion", secrecy="secret")
    chair.post("/ballots/1/open", data={"csrf_token": token})
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert "0 paper ballots issued" in page and 'id="paper-issued"' not in page
    for did in ("d0005", "d0003"):
        r = chair.post("/ballots/1/paper/issue", data={"csrf_token": token, "delegate": did})
        assert r.status_code == 302
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert "2 paper ballots issued" in page and 'id="paper-issued" open' in page
    rows = page.split('id="paper-issued"', 1)[1].split("</details>", 1)[0]
    assert rows.index("Delegate 3") < rows.index("Delegate 5")  # by name, not in the order issued
    for did, name in (("d0003", "Delegate 3"), ("d0005", "Delegate 5")):
        row = f'<tr data-delegate="{did}"><td class="name">{name}</td><td class="mono">{did}</td></tr>'
        assert row in rows
    assert "how they voted is not" in rows
    vi = obs.get("/ballots/1?lang=vi").get_data(as_text=True)
    assert "Đã phát phiếu giấy cho:" in vi and "Mã đại biểu" in vi
    # Not on the projector or the hall screen, not in the API; no page at all without a login.
    for path in ("/ballots/1/projector", "/hall", "/api/ballots/1"):
        body = obs.get(path).get_data(as_text=True)
        assert "d0005" not in body and "Delegate 5" not in body, path
    assert anon.get("/ballots/1").status_code in (302, 401)
    # Closed, the list stays on the page for the committee's count.
    chair.post("/ballots/1/close", data={"csrf_token": token, "confirmed": "yes"})
    page = obs.get("/ballots/1").get_data(as_text=True)
    assert 'data-delegate="d0005"' in page and 'data-delegate="d0003"' in page
