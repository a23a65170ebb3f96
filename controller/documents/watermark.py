"""Per-delegate watermarked copies, made as a shared base file plus a small per-delegate tail.

A document version is prepared once (:func:`prepare_base`): qpdf rewrites it with a classic
cross-reference table, wraps each page's content in ``q … Q`` and appends ``/DCwm Do``, which paints a
form XObject per page size. In the base that form is an opaque white sheet saying the copy is
incomplete, so the base on its own shows no document.

A delegate's copy (:func:`make_tail`) is the base followed by a PDF *incremental update* of a few
kilobytes: new definitions of those form XObjects, which draw the delegate's visible band (name,
number, time in the venue's time zone, as glyph outlines) and the forensic dot code of
:mod:`controller.documents.mark` over the whole page, plus a new cross-reference section whose
``/Prev`` points into the base. Making a copy therefore costs the same for a 2-page and a 2,000-page
document, the cache holds one small tail per delegate and version, and serving a copy is sending the
shared base (hot in the page cache) followed by that delegate's tail. Cutting the tail off gives
blank pages, not a clean document.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pikepdf

from controller.documents import fonts, mark
from controller.documents.outline_text import load as load_font

XOBJECT_NAME = "/DCwm"
BAND_PT = 20.0


@dataclass(frozen=True)
class PageKind:
    """A page geometry shared by some pages of the document: its media box and its /Rotate."""

    box: tuple[float, float, float, float]
    rotate: int


@dataclass
class Base:
    """What a tail needs to extend a prepared version (whose bytes live in a file of ``length`` bytes)."""

    length: int
    startxref: int
    size: int  # the trailer's /Size: the next free object number
    root: str  # "n g R"
    info: str | None
    first_id: str  # hex of the /ID's first string
    forms: dict[int, PageKind] = field(default_factory=dict)  # form object number -> page geometry
    pages: int = 0

    def meta(self) -> dict:
        return {
            "length": self.length,
            "startxref": self.startxref,
            "size": self.size,
            "root": self.root,
            "info": self.info,
            "first_id": self.first_id,
            "pages": self.pages,
            "forms": {str(n): [list(k.box), k.rotate] for n, k in self.forms.items()},
        }

    @classmethod
    def from_meta(cls, meta: dict) -> Base:
        forms = {int(n): PageKind(tuple(box), rot) for n, (box, rot) in meta["forms"].items()}
        keys = ("length", "startxref", "size", "root", "info", "first_id", "pages")
        return cls(forms=forms, **{k: meta[k] for k in keys})


def _ref(obj: pikepdf.Object) -> str:
    n, g = obj.objgen
    return f"{n} {g} R"


def _placeholder(pdf: pikepdf.Pdf, kind: PageKind) -> pikepdf.Stream:
    x0, y0, x1, y1 = kind.box
    body = f"1 g {x0:g} {y0:g} {x1 - x0:g} {y1 - y0:g} re f".encode()
    return pdf.make_stream(
        body, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=list(kind.box), Resources={}
    )


def prepare_base(original: bytes) -> tuple[bytes, Base]:
    """Rewrite an accepted document into the shared base of its watermarked copies."""
    with pikepdf.open(io.BytesIO(original)) as pdf:
        push = pdf.make_stream(b"q\n")
        pop_and_stamp = pdf.make_stream(f"Q\nq {XOBJECT_NAME} Do Q\n".encode())
        forms: dict[PageKind, pikepdf.Object] = {}
        for page in pdf.pages:
            kind = _kind(page)
            if kind not in forms:
                forms[kind] = pdf.make_indirect(_placeholder(pdf, kind))
            shared = page.obj.get("/Resources", pikepdf.Dictionary())
            resources = pikepdf.Dictionary({k: v for k, v in shared.items()})  # pages may share theirs
            xobjects = pikepdf.Dictionary({k: v for k, v in shared.get("/XObject", {}).items()})
            xobjects[XOBJECT_NAME] = forms[kind]
            resources.XObject = xobjects
            page.obj.Resources = resources
            page.contents_add(push, prepend=True)
            page.contents_add(pop_and_stamp)
        out = io.BytesIO()
        pdf.save(
            out,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            fix_metadata_version=False,
            linearize=False,
        )
    data = out.getvalue()
    if not data.endswith(b"\n"):
        data += b"\n"
    return data, _describe(data)


def _kind(page: pikepdf.Page) -> PageKind:
    b = [round(float(v), 3) for v in page.mediabox]
    box = (min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
    return PageKind(box, int(page.obj.get("/Rotate", 0)) % 360)


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def _describe(data: bytes) -> Base:
    found = _STARTXREF.search(data[-64:])
    if not found or b"\nxref" not in data[int(found.group(1)) - 1 : int(found.group(1)) + 5]:
        raise ValueError("the prepared base has no classic cross-reference table")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        trailer = pdf.trailer
        info = _ref(trailer.Info) if "/Info" in trailer else None
        first_id = bytes(trailer.ID[0]).hex() if "/ID" in trailer else "00" * 16
        # qpdf renumbers objects when it writes: find each page's placeholder form in the output.
        forms = {page.obj.Resources.XObject[XOBJECT_NAME].objgen[0]: _kind(page) for page in pdf.pages}
        return Base(
            length=len(data),
            startxref=int(found.group(1)),
            size=int(trailer.Size),
            root=_ref(pdf.Root),
            info=info,
            first_id=first_id,
            forms=forms,
            pages=len(pdf.pages),
        )


@dataclass(frozen=True)
class Holder:
    """Who a copy is for, as printed in its band and coded in its dots."""

    name: str
    number: int  # the number coded in the dot pattern (the delegate's watermark number)
    label: str  # e.g. "Đại biểu số 0123"; translated by the caller
    notice: str = ""  # e.g. "Personal copy: do not pass on"


def _band(kind: PageKind, holder: Holder, when: str) -> str:
    """Content operators of the visible band at the bottom of the page as it is displayed."""
    x0, y0, x1, y1 = kind.box
    w, h = x1 - x0, y1 - y0
    rot = kind.rotate
    dw = h if rot in (90, 270) else w
    # A matrix from display space (origin at the displayed bottom left) to the page's user space.
    matrix = {
        0: (1, 0, 0, 1, x0, y0),
        90: (0, 1, -1, 0, x1, y0),
        180: (-1, 0, 0, -1, x1, y1),
        270: (0, -1, 1, 0, x0, y1),
    }[rot]
    font = load_font(str(fonts.sans()))
    bold = load_font(str(fonts.sans(bold=True)))
    pad = 6.0
    main = f"{holder.name}  ·  {holder.label}  ·  {when}"
    size = bold.fit(main, 9.0, dw - 2 * pad - (font.width(holder.notice, 7.0) + 12 if holder.notice else 0))
    ops = [
        "q {} {} {} {} {} {} cm".format(*(f"{v:g}" for v in matrix)),
        f"/DCa gs 1 g 0 0 {dw:g} {BAND_PT:g} re f",
        f"0 g 0 {BAND_PT:g} m {dw:g} {BAND_PT:g} l 0.4 w S",
        "0.1 g",
        bold.draw(main, pad, 7.0, size),
    ]
    if holder.notice:
        ops.append(font.draw(holder.notice, dw - pad - font.width(holder.notice, 7.0), 7.0, 7.0))
    ops.append("Q")
    return "\n".join(ops)


def _stream(number: int, entries: str, content: bytes) -> bytes:
    packed = zlib.compress(content, 6)
    return (
        f"{number} 0 obj\n<< {entries} /Filter /FlateDecode /Length {len(packed)} >>\nstream\n".encode()
        + packed
        + b"\nendstream\nendobj\n"
    )


def stamp_time(when: dt.datetime, zone: str) -> str:
    """The copy's time as printed in its band: venue-local, with the UTC offset."""
    local = when.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%d/%m/%Y %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def make_tail(base: Base, holder: Holder, when: str) -> bytes:
    """The incremental update that turns ``base`` into ``holder``'s watermarked copy."""
    pattern_no, gs_no, alpha_no = base.size, base.size + 1, base.size + 2
    objects: list[tuple[int, bytes]] = []
    side = mark.TILE * mark.PITCH_PT
    objects.append(
        (
            pattern_no,
            _stream(
                pattern_no,
                f"/Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 /BBox [0 0 {side:g} {side:g}] "
                f"/XStep {side:g} /YStep {side:g} /Resources << >>",
                mark.pattern_content(holder.number).encode(),
            ),
        )
    )
    objects.append((gs_no, f"{gs_no} 0 obj\n<< /Type /ExtGState /BM /Multiply >>\nendobj\n".encode()))
    objects.append((alpha_no, f"{alpha_no} 0 obj\n<< /Type /ExtGState /ca 0.82 >>\nendobj\n".encode()))
    for number, kind in sorted(base.forms.items()):
        x0, y0, x1, y1 = kind.box
        content = (
            f"q /DCm gs /Pattern cs /DCp scn {x0:g} {y0:g} {x1 - x0:g} {y1 - y0:g} re f Q\n"
            + _band(kind, holder, when)
        ).encode()
        entries = (
            f"/Type /XObject /Subtype /Form /BBox [{x0:g} {y0:g} {x1:g} {y1:g}] /Resources << "
            f"/Pattern << /DCp {pattern_no} 0 R >> /ExtGState << /DCm {gs_no} 0 R /DCa {alpha_no} 0 R >> >>"
        )
        objects.append((number, _stream(number, entries, content)))
    return _update(base, objects)


def _update(base: Base, objects: list[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    offsets: dict[int, int] = {}
    at = base.length
    for number, body in objects:
        offsets[number] = at + len(out)
        out += body
    xref_at = at + len(out)
    out += b"xref\n"
    numbers = sorted(offsets)
    run: list[int] = []
    for n in [*numbers, None]:
        if run and (n is None or n != run[-1] + 1):
            out += f"{run[0]} {len(run)}\n".encode()
            out += b"".join(f"{offsets[k]:010d} 00000 n\r\n".encode() for k in run)
            run = []
        if n is not None:
            run.append(n)
    size = max(base.size, numbers[-1] + 1)
    info = f" /Info {base.info}" if base.info else ""
    copy_id = zlib.crc32(bytes(out)).to_bytes(4, "big").hex() * 4
    out += (
        f"trailer\n<< /Size {size} /Root {base.root}{info} /Prev {base.startxref} "
        f"/ID [<{base.first_id}> <{copy_id}>] >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)
