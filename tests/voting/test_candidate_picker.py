"""The nominate form's delegate search: a small JSON endpoint (chair and administrators only), tones and
case aside, at most ten, an exact number first; the list page carries no roster, so it is as small at
6,000 delegates as at six."""

from __future__ import annotations

from sqlalchemy import insert

from controller.storage.tables import Delegate

from .test_candidate_pages import make_list, nominate
from .test_web import client_as, web  # noqa: F401  (the app fixture of the ballot pages)

GIVEN = ["An", "Bình", "Châu", "Dũng", "Hà", "Hùng", "Lan", "Minh", "Phương", "Thảo"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"]


def _many(db, n: int) -> None:
    rows = [{"id": f"d{i:04d}", "name": f"{FAMILY[i % 6]} Văn {GIVEN[i % 10]} {i}",
             "delegation": f"Đoàn số {i % 60}", "seat": None, "summoned": True} for i in range(7, n + 1)]
    rows.append({"id": "x-binh", "name": "Trần Thị Bình", "delegation": "Đoàn Hà Nội", "seat": None,
                 "summoned": True})
    with db.session() as s:
        s.execute(insert(Delegate), rows)


def test_the_search_is_accent_insensitive_small_and_for_those_who_nominate(web):  # noqa: F811
    svc = web.extensions["congress"]
    chair, token = client_as(web, "chair")
    observer, _ = client_as(web, "observer")
    anon, _ = client_as(web, None)
    lid = make_list(chair, token)
    small = len(chair.get(f"/candidates/{lid}").data)
    _many(svc.db, 6000)
    page = chair.get(f"/candidates/{lid}").get_data(as_text=True)
    assert 'id="delegate-search"' in page and "d5999" not in page and "<datalist" not in page
    assert abs(len(page.encode()) - small) < 200 and len(page.encode()) < 40_000

    def find(q: str, client=chair):
        r = client.get("/candidates/delegates", query_string={"q": q})
        return r.status_code, (r.get_json() or {}).get("delegates")

    status, found = find("tran thi binh")
    assert status == 200 and [d["id"] for d in found] == ["x-binh"]
    assert found[0] == {"id": "x-binh", "name": "Trần Thị Bình", "delegation": "Đoàn Hà Nội"}
    assert find("TRẦN THỊ BÌNH")[1] == found and find("ha noi")[1] == found  # the delegation too
    status, found = find("van hung")
    assert status == 200 and len(found) == 10 and all("Hùng" in d["name"] for d in found)
    assert find("d0007")[1][0]["id"] == "d0007"  # an exact number first
    assert find("x")[1] == [] and find("")[1] == []
    assert find("tran thi binh", observer)[0] == 403
    assert find("tran thi binh", anon)[0] in (302, 401)
    # Choosing a result sends its number: the name is the roster's.
    r = nominate(chair, token, lid, "", delegate="x-binh")
    assert r.status_code == 302
    assert [c.name for c in svc.candidates.candidates("Ban Chấp hành")] == ["Trần Thị Bình"]
    r = nominate(chair, token, lid, "", delegate="nobody")
    assert r.status_code == 400 and "there is no delegate nobody" in r.get_data(as_text=True)
