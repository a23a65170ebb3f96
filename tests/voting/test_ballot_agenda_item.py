"""A ballot taken under an agenda item names it: its page links to the item on the programme page, and
the projector shows the item above the ballot's title."""

from __future__ import annotations

import datetime as dt
import html

from .test_web import client_as, create, web  # noqa: F401  (the fixture)


def test_ballot_page_links_to_its_agenda_item(web):  # noqa: F811
    svc = web.extensions["congress"]
    with svc.db.session() as s:
        svc.programme.session_row(s, "S1", date=dt.date(2026, 12, 2), title="Phiên chính thức")
    ref = svc.programme.add_item("3", "S1", "Báo cáo chính trị", actor="t")
    chair, token = client_as(web, "chair")
    create(chair, token, title="Thông qua báo cáo")
    create(chair, token, title="On no agenda item")
    svc.programme.link_ballot(ref, 1, actor="chair")

    page = html.unescape(chair.get("/ballots/1").get_data(as_text=True))
    assert f'<a href="/programme#item-{ref}">Agenda item 3: Báo cáo chính trị</a>' in page
    assert f'id="item-{ref}"' in chair.get("/programme").get_data(as_text=True)  # the link's target
    assert "3. Báo cáo chính trị" in html.unescape(chair.get("/ballots/1/projector").get_data(as_text=True))
    chair.post("/ballots/1/open", data={"csrf_token": token})
    assert "3. Báo cáo chính trị" in html.unescape(chair.get("/hall").get_data(as_text=True))
    assert 'id="agenda-item"' not in chair.get("/ballots/2").get_data(as_text=True)
    chair.post("/language", data={"csrf_token": token, "lang": "vi", "next": "/ballots/1"})
    vi = html.unescape(chair.get("/ballots/1").get_data(as_text=True))
    assert "Mục chương trình 3: Báo cáo chính trị" in vi
