"""Upload checks for congress documents: a PDF is accepted only if it is whole, plain and small enough.

:func:`check_pdf` opens the bytes with qpdf (pikepdf) *without* its repair mode, so a truncated or
damaged file is refused rather than silently rebuilt, then walks every object once looking for
anything that acts instead of being read: JavaScript, launch/submit/import actions, automatic actions
(``/AA``, a scripted ``/OpenAction``), embedded or attached files, XFA forms, rich media and 3D. Each
refusal is a :class:`DocumentRefused` whose ``reason`` is a :class:`Refusal` code (the page translates
it) and whose message tells the technician what to do with the file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from enum import StrEnum

import pikepdf

from congress.errors import CongressError
from congress.i18n import N_

#: Defaults; the controller configuration may lower or raise them.
MAX_BYTES = 50 * 1024 * 1024
MAX_PAGES = 1000
#: A page larger than this (in PDF points, 1/72 inch) is not a document page (A0 is 2384 x 3370).
MAX_PAGE_SIDE = 14400
MIN_PAGE_SIDE = 36

#: Action types (``/S``) that run something, send something or fetch something.
ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/ResetForm",
        "/GoToE",
        "/RichMediaExecute",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/Hide",
    }
)
#: Annotation subtypes that carry files, media or 3D models.
ACTIVE_ANNOTATIONS = frozenset({"/RichMedia", "/3D", "/Movie", "/Sound", "/Screen"})


class Refusal(StrEnum):
    """Why an upload was refused (``DocumentRefused.reason``)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_PDF = "not_pdf"
    BROKEN = "broken"
    ENCRYPTED = "encrypted"
    TOO_MANY_PAGES = "too_many_pages"
    NO_PAGES = "no_pages"
    PAGE_SIZE = "page_size"
    JAVASCRIPT = "javascript"
    ACTION = "action"
    EMBEDDED_FILE = "embedded_file"
    XFA = "xfa"
    MEDIA = "media"


#: What each refusal means and what to do, for the page (translated there; the CLI prints the message).
REFUSAL_TEXT: dict[Refusal, str] = {
    Refusal.EMPTY: N_("The file is empty."),
    Refusal.TOO_LARGE: N_("The file is too large: reduce its images (print to PDF at 150 dpi) or split it."),
    Refusal.NOT_PDF: N_("The file is not a PDF: export or print the document to PDF."),
    Refusal.BROKEN: N_(
        "The PDF is damaged or incomplete: upload it again, or export it again from its source."
    ),
    Refusal.ENCRYPTED: N_("The PDF is protected by a password or restrictions: save an unprotected copy."),
    Refusal.TOO_MANY_PAGES: N_("The PDF has too many pages: split it."),
    Refusal.NO_PAGES: N_("The PDF has no pages."),
    Refusal.PAGE_SIZE: N_("A page of the PDF has an impossible size: export it again."),
    Refusal.JAVASCRIPT: N_("The PDF contains JavaScript: print it to a new PDF without scripts."),
    Refusal.ACTION: N_("The PDF runs actions (programs, forms, automatic actions): print it to a new PDF."),
    Refusal.EMBEDDED_FILE: N_("The PDF carries attached files: send attachments as their own documents."),
    Refusal.XFA: N_("The PDF is an XFA form: print it to a new PDF."),
    Refusal.MEDIA: N_("The PDF carries rich media or 3D: print it to a new PDF."),
}


class DocumentRefused(CongressError):
    """An uploaded file is not accepted as a congress document; ``reason`` is a :class:`Refusal`."""

    def __init__(self, reason: Refusal, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


@dataclass(frozen=True)
class CheckedPdf:
    """What the checks learnt about an accepted file."""

    pages: int
    size: int
    pdf_version: str
    title: str


def _refuse(reason: Refusal, message: str, hint: str | None = None) -> DocumentRefused:
    return DocumentRefused(reason, message, hint=hint)


_RESAVE = (
    "open it in a PDF editor or print it to a new PDF without scripts, forms or attachments, then upload that"
)


def _scan_object(obj: pikepdf.Object, where: str) -> None:
    """Refuse ``obj`` (a dictionary or stream dictionary) if it is or holds active content."""
    keys = set(obj.keys())
    if "/JS" in keys or obj.get("/S") == pikepdf.Name.JavaScript:
        raise _refuse(Refusal.JAVASCRIPT, f"the PDF contains JavaScript ({where})", _RESAVE)
    action = obj.get("/S")
    if isinstance(action, pikepdf.Name) and str(action) in ACTIVE_ACTIONS:
        raise _refuse(Refusal.ACTION, f"the PDF contains a {str(action)[1:]} action ({where})", _RESAVE)
    if "/AA" in keys:
        raise _refuse(
            Refusal.ACTION, f"the PDF runs actions automatically when it is opened or read ({where})", _RESAVE
        )
    if "/EF" in keys or "/EmbeddedFiles" in keys or obj.get("/Type") == pikepdf.Name.EmbeddedFile:
        raise _refuse(Refusal.EMBEDDED_FILE, f"the PDF carries an attached file ({where})", _RESAVE)
    if "/XFA" in keys:
        raise _refuse(Refusal.XFA, "the PDF is an XFA form (a program, not a document)", _RESAVE)
    subtype = obj.get("/Subtype")
    if subtype == pikepdf.Name.FileAttachment:
        raise _refuse(Refusal.EMBEDDED_FILE, f"the PDF carries an attached file ({where})", _RESAVE)
    if isinstance(subtype, pikepdf.Name) and str(subtype) in ACTIVE_ANNOTATIONS and "/Rect" in keys:
        raise _refuse(Refusal.MEDIA, f"the PDF carries a {str(subtype)[1:]} annotation ({where})", _RESAVE)
    if "/RichMediaContent" in keys or "/3DD" in keys:
        raise _refuse(Refusal.MEDIA, f"the PDF carries rich media or a 3D model ({where})", _RESAVE)


def _direct_dicts(obj: pikepdf.Object, depth: int = 0):
    """``obj`` and the dictionaries written inside it (indirect ones are visited on their own)."""
    if depth > 32:
        raise _refuse(Refusal.BROKEN, "the PDF nests objects more than 32 deep")
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if isinstance(obj, pikepdf.Dictionary):
        yield obj
        children = obj.values()
    elif isinstance(obj, pikepdf.Array):
        children = obj
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
            yield from _direct_dicts(child, depth + 1)


def _scan(pdf: pikepdf.Pdf) -> None:
    root = pdf.Root
    opening = root.get("/OpenAction")
    if isinstance(opening, pikepdf.Dictionary):
        _scan_object(opening, "the action run when it is opened")
        if opening.get("/S") not in (None, pikepdf.Name.GoTo):
            raise _refuse(Refusal.ACTION, "the PDF runs an action when it is opened", _RESAVE)
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            raise _refuse(Refusal.JAVASCRIPT, "the PDF contains document-level JavaScript", _RESAVE)
        if "/EmbeddedFiles" in names:
            raise _refuse(Refusal.EMBEDDED_FILE, "the PDF carries attached files", _RESAVE)
    tops = [pdf.trailer, root, *pdf.objects]
    for top in tops:
        where = f"object {top.objgen[0]}" if top.is_indirect else "the document catalogue"
        for obj in _direct_dicts(top):
            _scan_object(obj, where)


def _check_pages(pdf: pikepdf.Pdf, max_pages: int) -> int:
    count = len(pdf.pages)
    if count == 0:
        raise _refuse(Refusal.NO_PAGES, "the PDF has no pages")
    if count > max_pages:
        raise _refuse(
            Refusal.TOO_MANY_PAGES,
            f"the PDF has {count} pages; the limit is {max_pages}",
            "split it into parts, or ask the administrator to raise [documents] max_pages",
        )
    for number, page in enumerate(pdf.pages, 1):
        try:
            box = [float(v) for v in page.mediabox]
        except (TypeError, ValueError, pikepdf.PdfError):
            raise _refuse(Refusal.BROKEN, f"page {number} has no valid size") from None
        w, h = abs(box[2] - box[0]), abs(box[3] - box[1])
        if not (MIN_PAGE_SIDE <= w <= MAX_PAGE_SIDE and MIN_PAGE_SIDE <= h <= MAX_PAGE_SIDE):
            raise _refuse(
                Refusal.PAGE_SIZE, f"page {number} is {w:.0f} x {h:.0f} points, not a document page"
            )
    return count


def check_pdf(data: bytes, *, max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES) -> CheckedPdf:
    """Accept ``data`` as a congress document or raise :class:`DocumentRefused` saying why."""
    if not data:
        raise _refuse(Refusal.EMPTY, "the file is empty")
    if len(data) > max_bytes:
        raise _refuse(
            Refusal.TOO_LARGE,
            f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB",
            "reduce its images (print to PDF at 150 dpi), or split it",
        )
    if b"%PDF-" not in data[:1024]:
        raise _refuse(Refusal.NOT_PDF, "the file is not a PDF", "export or print the document to PDF")
    try:
        pdf = pikepdf.Pdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise _refuse(
            Refusal.ENCRYPTED,
            "the PDF is protected by a password",
            "save an unprotected copy and upload that",
        ) from None
    except pikepdf.PdfError as exc:
        raise _refuse(
            Refusal.BROKEN,
            f"the PDF is damaged or incomplete ({_short(exc)})",
            "upload the file again; if it still fails, export it to PDF again from its source",
        ) from None
    with pdf:
        if pdf.is_encrypted:
            raise _refuse(
                Refusal.ENCRYPTED,
                "the PDF is encrypted (copy or print restrictions)",
                "save an unprotected copy and upload that",
            )
        try:
            pages = _check_pages(pdf, max_pages)
            _scan(pdf)
            title = str(pdf.docinfo.get("/Title", "")) if "/Info" in pdf.trailer else ""
        except DocumentRefused:
            raise
        except (pikepdf.PdfError, ValueError, TypeError, KeyError, RecursionError) as exc:
            raise _refuse(Refusal.BROKEN, f"the PDF's structure is damaged ({_short(exc)})") from None
        return CheckedPdf(pages=pages, size=len(data), pdf_version=pdf.pdf_version, title=title[:200])


#: How qpdf names the file it reads ("stream <_io.BytesIO object at 0x7f…>: "): noise to a technician.
_STREAM_REPR = re.compile(r"(?:stream\s+)?<[^<>]*\bobject at 0x[0-9a-fA-F]+>:?\s*")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _STREAM_REPR.sub("", text).strip() or type(exc).__name__
    return text[-160:]
