"""Watermarked copies through the tablet front: same bytes and headers as the controller page's
view, ranges, access refused exactly like a missing document, the open recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from controller.documents.tables import DocumentOpen

IGNORED = {"Date", "Server", "Connection", "Keep-Alive", "Vary"}


def _opens(front) -> int:
    with front.server.services.db.session() as s:
        return s.scalar(select(func.count()).select_from(DocumentOpen))


def test_a_copy_is_the_same_bytes_and_headers_as_the_page_view(front):
    path = f"/d/{front.refs['delegates']}/file"
    status, headers, body = front.get(path, "D-0002")
    assert status == 200 and body.startswith(b"%PDF") and len(body) == int(headers["Content-Length"])
    page_status, page_headers, page_body = front.get(path, "D-0002", port=front.server.port)
    assert page_status == 200 and page_body == body
    ours = {k: v for k, v in headers.items() if k not in IGNORED}
    theirs = {k: v for k, v in page_headers.items() if k not in IGNORED}
    assert ours == theirs
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Content-Type"] == "application/pdf"


def test_each_delegate_has_their_own_copy_and_every_open_is_recorded(front):
    before = _opens(front)
    ref = front.refs["delegates"]
    _, h1, one = front.get(f"/d/{ref}/file", "D-0001")
    _, h2, two = front.get(f"/d/{ref}/file", "D-0002")
    _, h1b, again = front.get(f"/d/{ref}/v/1/file", "D-0001")
    assert one != two and one == again and h1["ETag"] == h1b["ETag"] != h2["ETag"]
    assert _opens(front) == before + 3


@pytest.mark.parametrize("spec", ["bytes=0-99", "bytes=100-", "bytes=-500", "bytes=10-999999999"])
def test_ranges(front, spec):
    path = f"/d/{front.refs['delegates']}/file"
    _, _, whole = front.get(path, "D-0003")
    status, headers, part = front.get(path, "D-0003", {"Range": spec})
    assert status == 206
    span, total = headers["Content-Range"].removeprefix("bytes ").split("/")
    start, end = (int(x) for x in span.split("-"))
    assert int(total) == len(whole) and part == whole[start : end + 1]


def test_a_range_across_the_base_and_the_tail_and_one_past_the_end(front):
    path = f"/d/{front.refs['delegates']}/file"
    _, _, whole = front.get(path, "D-0003")
    tail_start = len(whole) - 2000
    status, _, part = front.get(path, "D-0003", {"Range": f"bytes={tail_start - 50}-{tail_start + 50}"})
    assert status == 206 and part == whole[tail_start - 50 : tail_start + 51]
    status, headers, _ = front.get(path, "D-0003", {"Range": f"bytes={len(whole) + 10}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(whole)}"
    _, h, _ = front.get(path, "D-0003")
    status, _, body = front.get(path, "D-0003", {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert status == 200 and body == whole
    status, _, body = front.get(path, "D-0003", {"Range": "bytes=0-9", "If-Range": h["ETag"]})
    assert status == 206 and body == whole[:10]


def test_a_range_past_byte_0_is_not_a_new_open(front):
    path = f"/d/{front.refs['delegates']}/file"
    front.get(path, "D-0001")
    before = _opens(front)
    front.get(path, "D-0001", {"Range": "bytes=5000-"})
    assert _opens(front) == before


def test_another_groups_document_answers_like_a_missing_one(front):
    group = f"/d/{front.refs['group']}/file"
    assert front.get(group, "D-0001")[0] == 200  # in the presidium
    refused = front.get(group, "D-0002")
    missing = front.get("/d/AAAAAAAAAAAAAAAA/file", "D-0002")
    assert refused[0] == missing[0] == 404 and refused[2] == missing[2]
    # no badge, or a forged one: a guest, who reads public documents only
    assert front.get(f"/d/{front.refs['delegates']}/file")[0] == 404
    forged = front.tokens["D-0002"][:-4] + "AAAA"
    status, _, _ = front.get(f"/d/{front.refs['delegates']}/file",
                             headers={"Authorization": f"Badge {forged}"})
    assert status == 404
    assert front.get(f"/d/{front.refs['public']}/file")[0] == 200
    assert front.get(f"/d/{front.refs['delegates']}/v/x/file", "D-0001")[0] == 404
