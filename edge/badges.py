"""Badge QR codes at the door: read with OpenCV's QR detectors, verify with the controller's key.

:class:`BadgeGate` implements the two badge modes on top of the face :class:`~edge.recognition.Recognizer`:

* ``badge``: a valid badge checks its delegate in (debounced like a face); a forged badge, or one from
  another venue, is refused;
* ``badge+face``: a valid badge opens a claim for ``window_s`` seconds during which a face in front of
  the camera must match *that* delegate's templates 1:1 on ``confirm_frames`` frames with score >=
  ``min_score`` (and pass liveness when it is on); otherwise the claim is refused when it runs out.

The same badge seen on consecutive frames is one presentation (``repeat_s``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from congress import badge_token
from congress.config.edge import DoorMode
from congress.errors import ProtocolError
from edge.gallery import GalleryIndex
from edge.recognition import Decision, Outcome, Recognizer
from edge.tracking import Face

log = logging.getLogger(__name__)


def make_detectors() -> tuple:
    """OpenCV's ArUco-based QR detector: it decoded every one of 60 random badge codes where the
    classic ``QRCodeDetector`` missed 5, and it takes about 8 ms on a 640x480 frame without a code
    where the classic one takes over 150 ms (development machine)."""
    return (cv2.QRCodeDetectorAruco(),)


def read_qr(detectors: tuple, image: np.ndarray) -> str | None:
    """The text of the QR code in ``image``, or None."""
    for detector in detectors:
        try:
            text, _points, _ = detector.detectAndDecode(image)
        except cv2.error:
            continue
        if text:
            return text
    return None


@dataclass
class _Claim:
    delegate_id: str
    until: float
    hits: int = 0
    liveness_state: dict = field(default_factory=dict)


class BadgeGate:
    """Turns QR codes (and, for badge+face, faces) into outcomes; one loop owns it."""

    def __init__(self, recognizer: Recognizer, controller_key, venue_id: str, *, repeat_s: float = 3.0):
        self.rec = recognizer
        self.key = controller_key
        self.venue = venue_id
        self.repeat_s = repeat_s
        self.window_s = max(recognizer.door.liveness_window_s * 2, 8.0)
        self.detectors = make_detectors()
        self.claim: _Claim | None = None
        self._last_token: tuple[str, float] = ("", -1e9)

    def process(self, image: np.ndarray, faces: list[Face], t: float, gallery: GalleryIndex) -> list[Outcome]:
        out: list[Outcome] = []
        text = read_qr(self.detectors, image)
        if text is not None and not (text == self._last_token[0] and t - self._last_token[1] < self.repeat_s):
            self._last_token = (text, t)
            out.extend(self._badge(text, t))
        elif text is not None:
            self._last_token = (text, t)
        if self.rec.door.mode is DoorMode.BADGE_FACE and self.claim is not None:
            out.extend(self._match(image, faces, t, gallery))
        return out

    def _badge(self, text: str, t: float) -> list[Outcome]:
        try:
            claims = badge_token.verify(text, self.key, self.venue)
        except ProtocolError as exc:
            log.warning("badge refused: %s", exc)
            return [Outcome(Decision.REFUSED, None, t, reason=str(exc))]
        if self.rec.door.mode is DoorMode.BADGE:
            return [self.rec.accept(claims.delegate_id, None, {"t": t})]
        self.claim = _Claim(claims.delegate_id, t + self.window_s)
        return []

    def _match(self, image, faces: list[Face], t: float, gallery: GalleryIndex) -> list[Outcome]:
        c = self.claim
        if t > c.until:
            self.claim = None
            return [Outcome(Decision.REFUSED, c.delegate_id, t, reason="the face did not match the badge")]
        if not faces:
            return []
        face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        if face.embedding is None:
            return []
        score = gallery.verify(face.embedding, c.delegate_id)
        if score is None:
            self.claim = None
            return [Outcome(Decision.REFUSED, c.delegate_id, t, reason="no face enrolled for this badge")]
        verdict = None
        if self.rec.liveness is not None:
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            verdict = self.rec.liveness.update(c.liveness_state, gray, face.keypoints, t, face.ear)
        c.hits = c.hits + 1 if score >= self.rec.s.min_score else 0
        if c.hits < self.rec.s.confirm_frames or (verdict is not None and verdict.value != "pass"):
            return []
        self.claim = None
        return [self.rec.accept(c.delegate_id, verdict, {"t": t, "score": round(score, 4)})]
