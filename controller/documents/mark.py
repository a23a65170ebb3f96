"""The forensic mark: a delegate's number as a fine dot code tiled over the whole page, and its decoder.

Design (measured in ``docs/documents.md``):

* A tile of 12 x 12 cells, 4 pt apart (a 48 pt square, about 17 mm), repeated across the page. A cell
  holds a light grey (25 %) 1.6 pt dot or nothing. 48 cells are a fixed synchronisation pattern (half dots);
  the other 96 carry 32 bits three times over, spread across the tile: a 20-bit delegate number and a
  CRC-12, XOR-ed with a fixed whitening mask so every number has about as many dots as gaps.
* The page is painted through a PDF tiling pattern with the Multiply blend mode: the whole mark costs a
  few hundred bytes per copy, and it darkens the paper without lightening the text over it.

Decoding a photo or scan (:func:`decode`) never needs the whole page. Dark text is masked out and the
background flattened; the dot lattice shows as two peaks in the image's spectrum, which give its pitch
and angle (so scale and a slight rotation do not matter); their phases put every pixel at a lattice
position. Every visible tile is then folded onto one average tile (hundreds of copies on an A4 page,
so each cell is read from hundreds of dots), the synchronisation pattern finds the tile's origin and
orientation among the 8 turns and flips and 144 shifts, the three copies of each bit are added, and
the CRC must match. A result also says how sure it is (the synchronisation correlation and the
weakest bit's margin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TILE = 12
PITCH_PT = 4.0
DOT_PT = 1.6
GREY = 0.75  # fill level of a dot (0 black, 1 white); painted with Multiply
NUMBER_BITS = 20
CRC_BITS = 12
PAYLOAD_BITS = NUMBER_BITS + CRC_BITS
REPEAT = 3
MAX_NUMBER = (1 << NUMBER_BITS) - 1
_CRC_POLY = 0x80F  # CRC-12 (x^12 + x^11 + x^3 + x^2 + x + 1)

_rng = np.random.RandomState(0xDC12)  # legacy generator: its stream is fixed across NumPy versions
_ORDER = _rng.permutation(TILE * TILE)
SYNC_CELLS = _ORDER[: TILE * TILE - PAYLOAD_BITS * REPEAT]
DATA_CELLS = _ORDER[len(SYNC_CELLS) :].reshape(REPEAT, PAYLOAD_BITS)
SYNC_BITS = np.zeros(len(SYNC_CELLS), dtype=bool)
SYNC_BITS[_rng.permutation(len(SYNC_CELLS))[: len(SYNC_CELLS) // 2]] = True
_WHITEN = _rng.randint(0, 2, PAYLOAD_BITS).astype(bool)


def _crc12(bits: np.ndarray) -> np.ndarray:
    reg = 0
    for b in bits:
        reg ^= int(b) << (CRC_BITS - 1)
        reg = ((reg << 1) ^ _CRC_POLY) if reg & (1 << (CRC_BITS - 1)) else (reg << 1)
        reg &= (1 << CRC_BITS) - 1
    return np.array([(reg >> (CRC_BITS - 1 - i)) & 1 for i in range(CRC_BITS)], dtype=bool)


def _number_bits(number: int) -> np.ndarray:
    return np.array([(number >> (NUMBER_BITS - 1 - i)) & 1 for i in range(NUMBER_BITS)], dtype=bool)


def encode(number: int) -> np.ndarray:
    """The 12 x 12 tile (True = dot) for ``number``; row 0 is the bottom row in PDF space."""
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"a watermark number must be between 0 and {MAX_NUMBER}")
    bits = _number_bits(number)
    payload = np.concatenate([bits, _crc12(bits)]) ^ _WHITEN
    tile = np.zeros(TILE * TILE, dtype=bool)
    tile[SYNC_CELLS] = SYNC_BITS
    for rep in DATA_CELLS:
        tile[rep] = payload
    return tile.reshape(TILE, TILE)


def pattern_content(number: int) -> bytes:
    """Content stream of one pattern tile: the dots of ``number``'s code, in points."""
    tile = encode(number)
    off = (PITCH_PT - DOT_PT) / 2
    rects = [
        f"{c * PITCH_PT + off:g} {r * PITCH_PT + off:g} {DOT_PT:g} {DOT_PT:g} re"
        for r in range(TILE)
        for c in range(TILE)
        if tile[r, c]
    ]
    return f"{GREY:g} g\n" + "\n".join(rects) + "\nf\n"


@dataclass(frozen=True)
class Decoded:
    """A number read back from an image, with how clearly it was read."""

    number: int
    sync: float  # correlation of the synchronisation cells with their pattern, 0..1
    margin: float  # weakest data bit, in standard deviations of the cell values
    pitch_px: float  # the lattice pitch found in the image
    angle_deg: float


def _dft(s: np.ndarray, fx: float, fy: float) -> complex:
    h, w = s.shape
    ax = 2 * np.pi * fx * np.arange(w, dtype=np.float64)
    rows = s @ np.cos(ax).astype(np.float32) - 1j * (s @ np.sin(ax).astype(np.float32))  # float32 BLAS
    ey = np.exp(-2j * np.pi * fy * np.arange(h, dtype=np.float64))
    return complex(ey @ rows)


def _refine(s: np.ndarray, fx: float, fy: float, step: float) -> tuple[float, float]:
    best = abs(_dft(s, fx, fy))
    for _ in range(8):
        moved = False
        for dx, dy in ((step, 0), (-step, 0), (0, step), (0, -step)):
            v = abs(_dft(s, fx + dx, fy + dy))
            if v > best:
                best, fx, fy, moved = v, fx + dx, fy + dy, True
        if not moved:
            step /= 2
    return fx, fy


def _prepare(gray: np.ndarray) -> np.ndarray:
    import cv2

    img = gray.astype(np.float32) / (255.0 if gray.dtype == np.uint8 else 1.0)
    if img.ndim == 3:
        img = img.mean(axis=2)
    longest = max(img.shape)
    if longest > 2400:
        f = 2400 / longest
        img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    ink = 1.0 - img
    text = cv2.dilate((ink > 0.62).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    sigma = max(img.shape) / 120
    s = ink - cv2.GaussianBlur(ink, (0, 0), sigma)
    s[text] = 0.0
    return np.clip(s, -0.4, 0.4), ~text


def _peak(s: np.ndarray) -> tuple[float, float]:
    """The lattice's fundamental frequency: a strong spectral peak whose 90° turn is as strong.

    Text lines and letters make strong peaks too, but only the dot lattice is square.
    """
    import cv2

    h, w = s.shape
    spec = np.abs(np.fft.rfft2(s)).astype(np.float32)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    r = np.hypot(fx, fy)
    spec[(r < 1 / 48) | (r > 1 / 2.6)] = 0
    peaks = spec * (spec >= cv2.dilate(spec, np.ones((5, 5), np.uint8)))
    flat = np.argsort(peaks, axis=None)[-40:]
    best, choice = -1.0, (0.0, 0.0)
    for iy, ix in zip(*np.unravel_index(flat, spec.shape), strict=True):
        px, py = float(fx[0, ix]), float(fy[iy, 0])
        qx, qy = -py, px
        if qx < 0:
            qx, qy = -qx, -qy  # the spectrum of a real image is symmetric
        jx, jy = round(qx * w), round(qy * h) % h
        partner = spec[max(jy - 1, 0) : jy + 2, max(jx - 1, 0) : jx + 2].max(initial=0.0)
        score = min(float(spec[iy, ix]), float(partner))
        if score > best:
            best, choice = score, (px, py)
    return choice


def _fold(s: np.ndarray, valid: np.ndarray, f1, f2) -> np.ndarray:
    h, w = s.shape
    yy = np.arange(h, dtype=np.float64)[:, None]
    xx = np.arange(w, dtype=np.float64)[None, :]
    coords = []
    for fx, fy in (f1, f2):
        phase = np.angle(_dft(s, fx, fy)) / (2 * np.pi)
        coords.append(fx * xx + fy * yy + phase)
    u, v = coords
    iu, iv = np.round(u), np.round(v)
    near = (np.abs(u - iu) < 0.3) & (np.abs(v - iv) < 0.3) & valid
    bins = (np.mod(iv[near], TILE) * TILE + np.mod(iu[near], TILE)).astype(np.int64)
    total = np.bincount(bins, weights=s[near], minlength=TILE * TILE)
    count = np.bincount(bins, minlength=TILE * TILE)
    return (total / np.maximum(count, 1)).reshape(TILE, TILE)


def _orientations(tile: np.ndarray):
    for k in range(4):
        turned = np.rot90(tile, k)
        yield turned
        yield turned.T


_SYNC_SIGN = np.where(SYNC_BITS, 1.0, -1.0)


def _candidates(tile: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Every turn, flip and shift of ``tile`` as flat cells, best synchronisation first."""
    out = []
    for oriented in _orientations(tile):
        for dy in range(TILE):
            for dx in range(TILE):
                cells = np.roll(oriented, (-dy, -dx), axis=(0, 1)).ravel()
                sync = cells[SYNC_CELLS]
                sync = (sync - sync.mean()) / (sync.std() + 1e-12)
                out.append((float(sync @ _SYNC_SIGN) / len(sync), cells))
    out.sort(key=lambda t: -t[0])
    return out


def _bits(score: float, cells: np.ndarray) -> tuple[int | None, float, float]:
    on, off = cells[SYNC_CELLS][SYNC_BITS].mean(), cells[SYNC_CELLS][~SYNC_BITS].mean()
    spread = cells[SYNC_CELLS].std() + 1e-12
    soft = (cells[DATA_CELLS] - (on + off) / 2).sum(axis=0) * np.sign(on - off)
    bits = (soft > 0) ^ _WHITEN
    number_bits, crc = bits[:NUMBER_BITS], bits[NUMBER_BITS:]
    if not np.array_equal(_crc12(number_bits), crc):
        return None, score, 0.0
    number = int("".join("1" if b else "0" for b in number_bits), 2)
    return number, score, float(np.abs(soft).min() / REPEAT / spread)


def _read(tile: np.ndarray) -> tuple[int | None, float, float]:
    best = _candidates(tile)
    for score, cells in best[:3]:
        if score < 0.55:
            break
        found = _bits(score, cells)
        if found[0] is not None:
            return found
    return None, best[0][0], 0.0


def _blocks(s: np.ndarray, valid: np.ndarray, f1, f2) -> np.ndarray | None:
    """Fold the image block by block (each with its own lattice fit) and add the aligned tiles.

    A photographed page is not one flat lattice: perspective stretches it a little more on one side.
    Blocks of about four tiles are flat enough; each is aligned on its own synchronisation cells.
    """
    pitch = 1 / float(np.hypot(*f1))
    size = int(pitch * TILE * 4)
    h, w = s.shape
    if size * 1.5 > max(h, w):
        return None
    total = np.zeros(TILE * TILE)
    used = 0
    for y in range(0, max(h - size, 0) + 1, size // 2):
        for x in range(0, max(w - size, 0) + 1, size // 2):
            bs, bv = s[y : y + size, x : x + size], valid[y : y + size, x : x + size]
            if bv.mean() < 0.5:
                continue
            # The same lattice, its phase measured from this block's corner.
            g1 = _refine(bs, f1[0], f1[1], 0.25 / size)
            g2 = _refine(bs, f2[0], f2[1], 0.25 / size)
            score, cells = _candidates(_fold(bs, bv, g1, g2))[0]
            if score < 0.45:
                continue
            total += score * (cells - cells.mean()) / (cells.std() + 1e-12)
            used += 1
    return total.reshape(TILE, TILE) if used >= 2 else None


def decode(gray: np.ndarray) -> Decoded | None:
    """Read a delegate number from a grey or colour image of a watermarked page (None if none found)."""
    s, valid = _prepare(np.asarray(gray))
    fx, fy = _peak(s)
    step = 0.5 / max(s.shape)
    f1 = _refine(s, fx, fy, step)
    f2 = _refine(s, -f1[1], f1[0], step)
    pitch = 1 / float(np.hypot(*f1))
    angle = float(np.degrees(np.arctan2(f1[1], f1[0])))
    results = [_read(_fold(s, valid, f1, f2))]
    if results[0][0] is None or results[0][2] < 0.5:
        blocks = _blocks(s, valid, f1, f2)
        if blocks is not None:
            results.append(_read(blocks))
    found = [r for r in results if r[0] is not None]
    if not found:
        return None
    number, sync, margin = max(found, key=lambda r: r[2])
    return Decoded(number, sync, margin, pitch, angle)
