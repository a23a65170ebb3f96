"""What survives of the forensic mark: render watermarked pages, damage them, and decode them back.

Used by the tests (a few cases) and by ``congress controller documents survival`` (the whole table in
``docs/documents.md``). Rendering is poppler's ``pdftoppm``, as a print driver or a screenshot would
produce a raster; the damage is done with OpenCV.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from controller.documents import mark


def render(pdf: bytes, dpi: int, page: int = 1) -> np.ndarray:
    """Page ``page`` of ``pdf`` as an 8-bit grey image at ``dpi`` (pdftoppm)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-gray",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-png",
                str(src),
                str(Path(tmp) / "p"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        (out,) = Path(tmp).glob("p*.png")
        return cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def scale(img: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma)


def crop(img: np.ndarray, fraction: float) -> np.ndarray:
    """The centre of the page, ``fraction`` of its width and height."""
    h, w = img.shape
    ch, cw = int(h * fraction), int(w * fraction)
    return img[(h - ch) // 2 : (h + ch) // 2, (w - cw) // 2 : (w + cw) // 2]


def photo(
    img: np.ndarray, seed: int = 0, skew: float = 0.012, noise: float = 4.0, sigma: float = 0.9
) -> np.ndarray:
    """A rough phone photo of a print: uneven light, a slight turn and perspective, blur, noise, JPEG."""
    rng = np.random.default_rng(seed)
    h, w = img.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-skew, skew, src.shape).astype(np.float32) * np.float32([w, h])
    warped = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=255)
    yy, xx = np.mgrid[0:h, 0:w]
    light = 0.82 + 0.18 * (xx / w) * (1 - 0.3 * yy / h)
    out = warped.astype(np.float32) * light
    out = cv2.GaussianBlur(out, (0, 0), sigma) + rng.normal(0, noise, out.shape)
    return jpeg(np.clip(out, 0, 255).astype(np.uint8), 80)


def printed(img: np.ndarray) -> np.ndarray:
    """A laser print scanned back: greys become a 600-dpi-like halftone of black dots, then blur."""
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32) / 16 + 1 / 32
    h, w = img.shape
    tiles = np.tile(bayer, (h // 4 + 1, w // 4 + 1))[:h, :w]
    dots = np.where(img.astype(np.float32) / 255 < 1 - tiles * 0.999, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(dots, (0, 0), 1.2)


def photocopy(img: np.ndarray) -> np.ndarray:
    """A black-and-white copier: everything lighter than mid-grey becomes paper."""
    return np.where(img < 128, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Case:
    name: str
    dpi: int
    damage: Callable[[np.ndarray], np.ndarray]


CASES: tuple[Case, ...] = (
    Case("pdftoppm 300 dpi", 300, lambda i: i),
    Case("pdftoppm 150 dpi", 150, lambda i: i),
    Case("pdftoppm 100 dpi", 100, lambda i: i),
    Case("pdftoppm 72 dpi", 72, lambda i: i),
    Case("150 dpi, JPEG q75", 150, lambda i: jpeg(i, 75)),
    Case("150 dpi, JPEG q50", 150, lambda i: jpeg(i, 50)),
    Case("150 dpi, JPEG q30", 150, lambda i: jpeg(i, 30)),
    Case("300 dpi scaled to 40 %", 300, lambda i: scale(i, 0.4)),
    Case("150 dpi scaled to 70 %", 150, lambda i: scale(i, 0.7)),
    Case("150 dpi turned 1°", 150, lambda i: rotate(i, 1.0)),
    Case("150 dpi turned 4°", 150, lambda i: rotate(i, 4.0)),
    Case("150 dpi, blur σ 1 px", 150, lambda i: blur(i, 1.0)),
    Case("150 dpi, blur σ 2 px", 150, lambda i: blur(i, 2.0)),
    Case("150 dpi, centre 25 % crop", 150, lambda i: crop(i, 0.5)),
    Case("300 dpi, 10 % crop (4 x 3 cm)", 300, lambda i: crop(i, 0.316)),
    Case("200 dpi, photo of a print", 200, photo),
    Case("200 dpi, photo, then JPEG q50 at 60 %", 200, lambda i: jpeg(scale(photo(i, 1), 0.6), 50)),
    Case("200 dpi, photo: 3 % perspective, blur, noise", 200, lambda i: photo(i, 2, 0.03, 8.0, 1.5)),
    Case("300 dpi laser-print halftone, scanned at 150 dpi", 300, lambda i: scale(printed(i), 0.5)),
    Case("150 dpi, black-and-white photocopy", 150, photocopy),
)


@dataclass(frozen=True)
class Outcome:
    case: str
    number: int
    decoded: int | None
    sync: float
    margin: float

    @property
    def ok(self) -> bool:
        return self.decoded == self.number


def run(pdfs: dict[int, bytes], cases: tuple[Case, ...] = CASES, page: int = 1) -> list[Outcome]:
    """Decode every case for every (number -> watermarked PDF) pair."""
    outcomes = []
    for number, pdf in pdfs.items():
        renders: dict[int, np.ndarray] = {}
        for case in cases:
            if case.dpi not in renders:
                renders[case.dpi] = render(pdf, case.dpi, page)
            found = mark.decode(case.damage(renders[case.dpi]))
            outcomes.append(
                Outcome(
                    case.name,
                    number,
                    found.number if found else None,
                    found.sync if found else 0.0,
                    found.margin if found else 0.0,
                )
            )
    return outcomes


def main() -> None:
    """``python -m controller.documents.survival``: the survival table of docs/documents.md."""
    from collections import defaultdict

    from controller.documents import fonts, watermark
    from controller.documents.samples import text_pdf

    data, base = watermark.prepare_base(text_pdf(2, font_path=str(fonts.sans())))
    holders = [watermark.Holder("Nguyễn Thị Ánh Tuyết", n, f"Đại biểu số {n}") for n in (7, 1234, 987654)]
    pdfs = {h.number: data + watermark.make_tail(base, h, "01/12/2026 15:32 (UTC+07:00)") for h in holders}
    by_case: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in run(pdfs):
        by_case[outcome.case].append(outcome)
    print("| what the page went through | decoded | weakest sync | weakest bit margin |")
    print("|---|---|---|---|")
    for case, outcomes in by_case.items():
        ok = sum(o.ok for o in outcomes)
        sync = min(o.sync for o in outcomes)
        margin = min(o.margin for o in outcomes)
        print(f"| {case} | {ok}/{len(outcomes)} | {sync:.2f} | {margin:.2f} |")


if __name__ == "__main__":
    main()
