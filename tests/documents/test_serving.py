"""A copy sent over HTTP: whole, in ranges (as pdf.js asks), personal headers."""

from __future__ import annotations

import pytest
from flask import Flask, request

from controller.documents import watermark
from controller.documents.copies import CopyStore
from controller.documents.samples import text_pdf
from controller.documents.serving import copy_response


@pytest.fixture
def client(tmp_path):
    store = CopyStore(tmp_path)
    store.add_version("v1", text_pdf(3))
    app = Flask(__name__)

    def band():
        return watermark.Holder("Lê Văn Tám", 8, "Đại biểu số 8"), "now"

    @app.get("/copy")
    def copy():
        c = store.copy("v1", "D-1", band)
        return copy_response(c, request, "Báo cáo chính trị.pdf", "v1:D-1")

    with app.test_client() as client:
        client.whole = store.base_path("v1").read_bytes() + store.copy("v1", "D-1", band).tail
        yield client


def test_the_whole_copy(client):
    r = client.get("/copy")
    assert r.status_code == 200 and r.data == client.whole
    assert r.headers["Content-Length"] == str(len(client.whole))
    assert r.headers["Cache-Control"] == "private, no-store"
    assert "UTF-8''B%C3%A1o" in r.headers["Content-Disposition"]
    assert r.mimetype == "application/pdf"


@pytest.mark.parametrize("spec", ["bytes=0-99", "bytes=100-", "bytes=-500", "bytes=10-999999999"])
def test_ranges_across_base_and_tail(client, spec):
    whole = client.whole
    r = client.get("/copy", headers={"Range": spec})
    assert r.status_code == 206
    start, end = (int(x) for x in r.headers["Content-Range"].split()[1].split("/")[0].split("-"))
    assert r.data == whole[start : end + 1]
    assert r.headers["Content-Range"].endswith(f"/{len(whole)}")


def test_a_range_straddling_the_tail(client):
    whole = client.whole
    tail_start = len(whole) - 2000
    r = client.get("/copy", headers={"Range": f"bytes={tail_start - 50}-{tail_start + 50}"})
    assert r.status_code == 206 and r.data == whole[tail_start - 50 : tail_start + 51]


def test_an_unsatisfiable_range(client):
    r = client.get("/copy", headers={"Range": f"bytes={len(client.whole) + 10}-"})
    assert r.status_code == 416
