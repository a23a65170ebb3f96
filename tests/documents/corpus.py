"""PDFs made by the tests: ordinary documents and a corpus of hostile ones (each built with pikepdf or
ReportLab, so every case is a real file a PDF reader would open, not a string that merely looks bad)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pikepdf
from reportlab.lib.pagesizes import A4, landscape

from controller.documents.samples import text_pdf


def _save(pdf: pikepdf.Pdf, **kw) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **kw)
    return out.getvalue()


def _edit(base: bytes, change: Callable[[pikepdf.Pdf], None], **save) -> bytes:
    with pikepdf.open(io.BytesIO(base)) as pdf:
        change(pdf)
        return _save(pdf, **save)


def _action(pdf: pikepdf.Pdf, **entries) -> pikepdf.Object:
    return pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Action, **entries))


def _link(pdf: pikepdf.Pdf, action: pikepdf.Object) -> None:
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[50, 50, 200, 80], A=action
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def open_action_js(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = _action(pdf, S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hi')"))


def names_js(pdf: pikepdf.Pdf) -> None:
    js = _action(pdf, S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print()"))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("a"), js]))


def launch_link(pdf: pikepdf.Pdf) -> None:
    _link(pdf, _action(pdf, S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))


def submit_form(pdf: pikepdf.Pdf) -> None:
    _link(pdf, _action(pdf, S=pikepdf.Name.SubmitForm, F=pikepdf.String("http://example.invalid/")))


def page_aa(pdf: pikepdf.Pdf) -> None:
    goto = _action(pdf, S=pikepdf.Name.GoTo, D=[pdf.pages[0].obj, pikepdf.Name.Fit])
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=goto)


def embedded_file(pdf: pikepdf.Pdf) -> None:
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00 not a document", filename="update.exe")
    pdf.attachments["update.exe"] = spec


def file_attachment_annot(pdf: pikepdf.Pdf) -> None:
    ef = pdf.make_stream(b"payload")
    fs = pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=pikepdf.String("x.bin"), EF=pikepdf.Dictionary(F=ef)
    )
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[10, 10, 30, 30], FS=fs
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])


def xfa_form(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], XFA=pdf.make_stream(b"<xdp:xdp/>"))


def rich_media(pdf: pikepdf.Pdf) -> None:
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.RichMedia,
        Rect=[10, 10, 300, 300],
        RichMediaContent=pikepdf.Dictionary(),
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])


def encrypted(base: bytes) -> bytes:
    return _edit(base, lambda pdf: None, encryption=pikepdf.Encryption(owner="owner", user="secret"))


def owner_only(base: bytes) -> bytes:
    """Opens without a password, but with copy/print restrictions: still refused."""
    perms = pikepdf.Permissions(extract=False, print_highres=False)
    return _edit(base, lambda pdf: None, encryption=pikepdf.Encryption(owner="owner", user="", allow=perms))


def truncated(base: bytes) -> bytes:
    """The first 60 % of a real file, as a broken upload or copy leaves it."""
    return base[: int(len(base) * 0.6)]


def garbage_xref(base: bytes) -> bytes:
    """A whole file whose cross-reference table points at the wrong bytes."""
    at = base.rfind(b"startxref")
    return base[:at] + b"startxref\n17\n%%EOF\n"


def many_pages(count: int = 2000) -> bytes:
    """``count`` blank A4 pages sharing one content stream (small on disk, huge to read)."""
    pdf = pikepdf.new()
    content = pdf.make_stream(b"BT ET")
    for _ in range(count):
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 595, 842],
            Contents=content,
            Resources=pikepdf.Dictionary(),
        )
        pdf.pages.append(pikepdf.Page(page))
    return _save(pdf)


def huge_page(base: bytes) -> bytes:
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].obj.MediaBox = [0, 0, 200000, 200000]

    return _edit(base, change)


def hostile_corpus(base: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (file, expected refusal reason)."""
    edits = {
        "open_action_js": (open_action_js, "javascript"),
        "names_js": (names_js, "javascript"),
        "launch_link": (launch_link, "action"),
        "submit_form": (submit_form, "action"),
        "page_aa": (page_aa, "action"),
        "embedded_file": (embedded_file, "embedded_file"),
        "file_attachment_annot": (file_attachment_annot, "embedded_file"),
        "xfa_form": (xfa_form, "xfa"),
        "rich_media": (rich_media, "media"),
    }
    corpus = {name: (_edit(base, fn), reason) for name, (fn, reason) in edits.items()}
    corpus.update(
        encrypted=(encrypted(base), "encrypted"),
        owner_only=(owner_only(base), "encrypted"),
        truncated=(truncated(base), "broken"),
        garbage_xref=(garbage_xref(base), "broken"),
        not_pdf=(b"<html><script>alert(1)</script></html>", "not_pdf"),
        empty=(b"", "empty"),
        huge_page=(huge_page(base), "page_size"),
        two_thousand_pages=(many_pages(2000), "too_many_pages"),
    )
    return corpus


__all__ = ["A4", "hostile_corpus", "landscape", "many_pages", "text_pdf"]
