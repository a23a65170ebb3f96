"""Watermarked copies: real PDFs prepared, stamped per delegate, rendered by poppler and decoded back."""

from __future__ import annotations

import datetime as dt
import io
import threading

import numpy as np
import pikepdf
import pytest

from controller.documents import fonts, mark, survival, watermark
from controller.documents.copies import CopyStore
from controller.documents.pdfcheck import check_pdf
from tests.documents.corpus import landscape, text_pdf

ORIGINAL = text_pdf(4, font_path=str(fonts.sans()))
WHEN = "01/12/2026 15:32 (UTC+07:00)"


def holder(number: int, name: str = "Nguyễn Thị Ánh Tuyết") -> watermark.Holder:
    return watermark.Holder(name, number, f"Đại biểu số {number:04d}", "Bản cá nhân — không chuyển tiếp")


@pytest.fixture(scope="module")
def prepared():
    return watermark.prepare_base(ORIGINAL)


def test_the_base_alone_shows_no_document(prepared):
    data, base = prepared
    page = survival.render(data, 50)
    assert page.min() > 240, "the base without a tail must render as a blank sheet"
    assert base.pages == 4 and base.length == len(data)


def test_a_copy_carries_its_holders_number_and_is_a_clean_pdf(prepared):
    data, base = prepared
    copy = data + watermark.make_tail(base, holder(1234), WHEN)
    assert check_pdf(copy).pages == 4  # still a plain, whole PDF: no repair, no active content
    with pikepdf.open(io.BytesIO(copy), attempt_recovery=False) as pdf:
        assert len(pdf.pages) == 4
    for page in (1, 4):
        img = survival.render(copy, 100, page)
        assert img.min() < 50, "the document's text is visible"
        found = mark.decode(img)
        assert found is not None and found.number == 1234


def test_two_delegates_get_different_marks_and_an_unmarked_page_reads_as_none(prepared):
    data, base = prepared
    a = survival.render(data + watermark.make_tail(base, holder(7), WHEN), 100)
    b = survival.render(data + watermark.make_tail(base, holder(654321), WHEN), 100)
    assert mark.decode(a).number == 7
    assert mark.decode(b).number == 654321
    assert mark.decode(survival.render(ORIGINAL, 100)) is None


def test_the_visible_band_is_on_the_displayed_bottom_of_every_page_kind():
    """Portrait, landscape and a /Rotate 90 page: the band is drawn where the reader sees the bottom."""
    portrait = text_pdf(1, font_path=str(fonts.sans()))
    wide = text_pdf(1, size=landscape((595.28, 841.89)), font_path=str(fonts.sans()))
    merged = pikepdf.new()
    for src in (portrait, wide, portrait):
        merged.pages.extend(pikepdf.open(io.BytesIO(src)).pages)
    merged.pages[2].obj.Rotate = 90
    out = io.BytesIO()
    merged.save(out)
    data, base = watermark.prepare_base(out.getvalue())
    assert len(base.forms) == 3
    copy = data + watermark.make_tail(base, holder(42), WHEN)
    for page in (1, 2, 3):
        img = survival.render(copy, 72, page)
        h = img.shape[0]
        band = img[h - 18 : h - 3]
        assert band.min() < 100, f"page {page}: no dark band text at the bottom"
        assert mark.decode(survival.render(copy, 100, page)).number == 42


def test_a_tail_costs_the_same_for_2_and_200_pages():
    small = watermark.prepare_base(text_pdf(2))[1]
    large = watermark.prepare_base(text_pdf(200))[1]
    a = watermark.make_tail(small, holder(5), WHEN)
    b = watermark.make_tail(large, holder(5), WHEN)
    assert abs(len(a) - len(b)) < 200
    assert len(b) < 20_000


def test_names_with_every_vietnamese_tone_are_drawn():
    name = "Đặng Thị Ỷ Lan · Nguyễn Văn Ổn · Trương Mỹ Ức · Lê Hữu Quỳnh"
    data, base = watermark.prepare_base(text_pdf(1))
    tail = watermark.make_tail(base, holder(9, name), WHEN)
    img = survival.render(data + tail, 150)
    assert (img[-30:] < 100).sum() > 400  # the band's text is there
    assert mark.decode(img).number == 9


def test_stamp_time_is_in_the_venue_zone():
    when = dt.datetime(2026, 12, 1, 8, 32, tzinfo=dt.UTC)
    assert watermark.stamp_time(when, "Asia/Ho_Chi_Minh") == "01/12/2026 15:32 (UTC+07:00)"


def test_numbers_outside_the_code_are_refused():
    with pytest.raises(ValueError):
        mark.encode(mark.MAX_NUMBER + 1)


def test_the_store_makes_each_copy_once_even_when_asked_at_once(tmp_path):
    store = CopyStore(tmp_path)
    store.add_version("v1", ORIGINAL)
    calls = []

    def band():
        calls.append(1)
        return holder(77), WHEN

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(store.copy("v1", "D-0077", band))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({r.tail for r in results}) == 1
    assert sum(r.made_ms is not None for r in results) == 1
    copy = results[0]
    whole = copy.base.read_bytes() + copy.tail
    assert len(whole) == copy.length
    assert mark.decode(survival.render(whole, 100)).number == 77
    tails = list((tmp_path / "copies" / "v1").iterdir())
    assert len(tails) == 1 and "D-0077" not in tails[0].name
    assert tails[0].stat().st_mode & 0o077 == 0
    store.remove_version("v1")
    assert not (tmp_path / "versions" / "v1").exists() and not (tmp_path / "copies" / "v1").exists()


@pytest.mark.parametrize(
    "case",
    [c for c in survival.CASES if "photo of a print" in c.name or "10 %" in c.name],
    ids=lambda c: c.name,
)
def test_the_mark_survives(case, prepared):
    data, base = prepared
    copy = data + watermark.make_tail(base, holder(31337), WHEN)
    (outcome,) = survival.run({31337: copy}, (case,))
    assert outcome.ok, outcome


def test_a_black_and_white_photocopy_loses_the_dots_but_keeps_the_band(prepared):
    data, base = prepared
    img = survival.photocopy(survival.render(data + watermark.make_tail(base, holder(3), WHEN), 150))
    assert mark.decode(img) is None
    assert (img[-40:] == 0).sum() > 300
    assert np.mean(img[: img.shape[0] // 2] == 0) < 0.2
