"""Upload checks against real PDFs: ordinary ones pass, each hostile one is refused with its reason."""

from __future__ import annotations

import pytest

from controller.documents.pdfcheck import DocumentRefused, Refusal, check_pdf
from tests.documents.corpus import hostile_corpus, many_pages, text_pdf

BASE = text_pdf(3)
CORPUS = hostile_corpus(BASE)


def test_an_ordinary_document_is_accepted():
    checked = check_pdf(BASE)
    assert checked.pages == 3
    assert checked.size == len(BASE)
    assert checked.title == "Dự thảo báo cáo"


def test_a_link_to_a_web_page_is_not_active_content():
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(BASE)) as pdf:
        uri = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org/"))
        annot = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 9, 9], A=uri
        )
        pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])
        out = io.BytesIO()
        pdf.save(out)
    assert check_pdf(out.getvalue()).pages == 3


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_files_are_refused_with_their_reason(name):
    data, reason = CORPUS[name]
    with pytest.raises(DocumentRefused) as err:
        check_pdf(data, max_pages=1000)
    assert err.value.reason == Refusal(reason), str(err.value)
    assert err.value.message  # a sentence a technician reads
    assert "Traceback" not in str(err.value)


def test_the_page_cap_is_configurable():
    data = many_pages(2000)
    assert check_pdf(data, max_pages=2000).pages == 2000
    with pytest.raises(DocumentRefused, match="2000 pages; the limit is 1999"):
        check_pdf(data, max_pages=1999)


def test_the_size_cap_is_checked_before_parsing():
    with pytest.raises(DocumentRefused) as err:
        check_pdf(b"%PDF-1.7\n" + b"0" * 2000, max_bytes=1000)
    assert err.value.reason == Refusal.TOO_LARGE
    assert "limit" in err.value.message and err.value.hint
