"""Sample congress documents made on the spot (ReportLab), for the benchmark and the survival table.

Real-looking pages: a heading and lines of Vietnamese and English text in Noto Sans; with
``image_kb`` each page also carries a photograph-like image of about that size (noise compresses
badly, as scanned pages do), which is how a benchmark reaches a 20 MB set with a realistic page count.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

LOREM = (
    "Báo cáo chính trị trình Đại hội. The congress reviews the term's work, adopts the resolution and "
    "elects its committee. "
) * 3


def _noise_jpeg(kb: int, seed: int) -> bytes:
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    side = max(64, int((kb * 1024 / 1.1) ** 0.5))
    img = (rng.random((side, side)) * 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes()


def text_pdf(
    pages: int = 3,
    *,
    title: str = "Dự thảo báo cáo",
    size=A4,
    font_path: str | None = None,
    image_kb: int = 0,
) -> bytes:
    """An ordinary document of ``pages`` pages."""
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    c.setTitle(title)
    font = "Helvetica"
    if font_path:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        if "Body" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("Body", font_path))
        font = "Body"
    h = size[1]
    for n in range(1, pages + 1):
        c.setFont(font, 18)
        c.drawString(56, h - 72, f"{title} — {n}/{pages}")
        c.setFont(font, 10.5)
        y = h - 110
        line = 0
        bottom = 90 if not image_kb else 330
        while y > bottom:
            c.drawString(56, y, LOREM[(line * 37) % 120 :][:95])
            y -= 14
            line += 1
        if image_kb:
            c.drawImage(ImageReader(io.BytesIO(_noise_jpeg(image_kb, n))), 56, 90, 220, 220)
        c.showPage()
    c.save()
    return buf.getvalue()
