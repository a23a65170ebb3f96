"""Small real PDFs for the tests: Vietnamese text layers (a Type0 font with a ToUnicode map) and blanks."""

from __future__ import annotations

import io


def text_pdf(pages: list[str]) -> bytes:
    """A PDF whose pages carry ``pages`` as their text layer (one line each, Identity-H codes)."""
    chars = sorted({c for p in pages for c in p})
    code = {c: i + 1 for i, c in enumerate(chars)}
    cmap = "\n".join(f"<{code[c]:04X}> <{ord(c):04X}>" for c in chars)
    tounicode = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n{cmap}\nendbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    def stream(data: str) -> bytes:
        raw = data.encode("latin-1")
        return b"<< /Length %d >>\nstream\n" % len(raw) + raw + b"\nendstream"

    catalog = add("")  # filled below
    pages_obj = add("")
    tu = add(stream(tounicode))
    desc = add(
        "<< /Type /FontDescriptor /FontName /T /Flags 4 /FontBBox [0 0 1000 1000] /ItalicAngle 0 "
        "/Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>"
    )
    cid = add(
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /T /CIDSystemInfo << /Registry (Adobe) "
        f"/Ordering (Identity) /Supplement 0 >> /FontDescriptor {desc} 0 R /DW 500 >>"
    )
    font = add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /T /Encoding /Identity-H "
        f"/DescendantFonts [{cid} 0 R] /ToUnicode {tu} 0 R >>"
    )
    kids = []
    for text in pages:
        hexed = "".join(f"{code[c]:04X}" for c in text)
        content = add(stream(f"BT /F1 10 Tf 40 800 Td <{hexed}> Tj ET"))
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    )
    return out.getvalue()


def blank_pdf(pages: int) -> bytes:
    """A PDF of ``pages`` blank pages (no text layer, like a scan without recognition)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
