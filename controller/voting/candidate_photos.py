"""Candidates' photos: an uploaded portrait, checked by its content, kept sealed like all face data.

A photo is read for what it is, never for its name or declared type: :func:`congress.faces.decode_image`
sniffs the bytes (JPEG, PNG, WebP or HEIC), checks the declared size before decoding and refuses anything
else with a reason. The decoded picture is reduced to at most :data:`PHOTO_PX` on its longest side and
written anew as a JPEG, so nothing of the upload but its pixels is kept (no metadata, no trailing data).

A portrait is face data: it is sealed with the venue's face key
(:class:`controller.delegates.face_vault.FaceVault`, associated data ``candidate-photo:<id>``) under
``<data_dir>/candidates/``, and ``purge-biometrics`` shreds that folder with the other face data. A
delegate's enrolled photo is never reused: consent to be recognised at the door is not consent to have
one's face shown to the congress, so a candidate's photo is always one given for the list.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from congress.errors import CongressError, ImageError
from congress.i18n import M_, Message

#: Folder under the data directory (shredded by ``purge-biometrics``).
CANDIDATES_DIR = "candidates"
#: Largest upload accepted, in bytes.
MAX_BYTES = 8 * 1024 * 1024
#: Largest decoded picture accepted (pixels), far above any portrait; checked before decoding.
MAX_PIXELS = 40_000_000
#: Longest side of the kept copy.
PHOTO_PX = 480


class PhotoRefused(CongressError):
    """An upload that is not a photo we keep (``text`` for the page, ``str()`` English)."""

    def __init__(self, text: Message | str) -> None:
        super().__init__(str(text))
        self.text = text


def _aad(candidate_id: int) -> str:
    return f"candidate-photo:{candidate_id}"


class CandidatePhotos:
    """Check, seal, read and delete candidates' photos in ``<data_dir>/candidates/``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / CANDIDATES_DIR

    def _vault(self):
        from controller.delegates.face_vault import FaceVault

        # Loaded at each use: after a purge in another process the old key must never seal again.
        return FaceVault.load(self.data_dir)

    @staticmethod
    def prepare(data: bytes, source: str) -> bytes:
        """The photo as the JPEG we keep; :class:`PhotoRefused` unless ``data`` is an image."""
        import cv2

        from congress.faces.imageio import decode_image

        if len(data) > MAX_BYTES:
            raise PhotoRefused(M_("%(file)s is larger than %(mb)s MB; send a smaller photo",
                                  file=source, mb=MAX_BYTES // (1024 * 1024)))
        try:
            image = decode_image(data, name=source, max_pixels=MAX_PIXELS)
        except ImageError as exc:
            raise PhotoRefused(exc.text) from None
        h, w = image.shape[:2]
        scale = min(1.0, PHOTO_PX / max(h, w))
        if scale < 1:
            image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))),
                               interpolation=cv2.INTER_AREA)
        ok, jpg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise PhotoRefused(M_("%(file)s cannot be stored as a photo", file=source))
        return jpg.tobytes()

    def save(self, candidate_id: int, jpeg: bytes) -> str:
        """Seal ``jpeg`` for the candidate; the file's name (kept in ``Candidate.photo``)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{candidate_id}-{secrets.token_hex(4)}.sealed"
        path = self.folder / name
        path.write_bytes(self._vault().seal(jpeg, _aad(candidate_id)))
        path.chmod(0o600)
        return name

    def read(self, candidate_id: int, name: str | None) -> bytes | None:
        """The candidate's JPEG, or None (no photo, purged, or not readable with this key)."""
        from controller.delegates.face_vault import FaceDataError

        if not name or "/" in name or name.startswith("."):
            return None
        path = self.folder / name
        if not path.is_file():
            return None
        try:
            return self._vault().open(path.read_bytes(), _aad(candidate_id))
        except (FaceDataError, CongressError):
            return None

    def delete(self, name: str | None) -> None:
        if name and "/" not in name and not name.startswith("."):
            from congress.files import shred

            path = self.folder / name
            if path.is_file():
                shred(path)
