"""Face enrollment: photos in, sealed embeddings out, through the same face engine as the door units.

:class:`Enroller` decodes a photo with :func:`congress.faces.decode_image`, runs
``FaceEngine.faces`` (detect, align, embed: exactly the door unit's code and preprocessing), checks the
photo's quality (exactly one face, large enough) and stores a :class:`controller.storage.tables.FacePhoto` row
whose embedding is sealed by :class:`controller.delegates.face_vault.FaceVault`. A reduced copy of each
accepted
photo (for the attendant's confirm lane) is kept sealed too, under ``<data_dir>/faces/``. Every change
of face data bumps the gallery revision, which the gallery publisher
(:mod:`controller.delegates.gallery`) notices and turns into a new gallery for every unit.

Delegates who did not consent never reach this module's storage: :meth:`Enroller.forget` removes what
was kept for them. :func:`purge_biometrics` deletes all face data at the end of the congress.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from congress.errors import CongressError, ImageError
from congress.i18n import M_, N_, Message
from controller.delegates.face_vault import KEY_FILE, FaceVault, embedding_aad, photo_aad
from controller.storage.database import Database, utcnow
from controller.storage.tables import EnrollStatus, FacePhoto, GalleryState

log = logging.getLogger(__name__)

FACES_DIR = "faces"
#: Uploaded rosters and their photos, one folder per upload (``controller.web.delegates.roster``).
IMPORTS_DIR = "imports"
#: Candidates' photos, sealed (``controller.voting.candidate_photos``): face data too.
CANDIDATES_DIR = "candidates"
#: Smallest face (box width in pixels of the original photo) accepted for enrollment; the engine
#: itself ignores faces under 24 px, which therefore count as "no face".
MIN_FACE_PX = 48
#: A second face at least this fraction of the largest face's width makes the photo ambiguous.
SECOND_FACE_RATIO = 0.5
#: Longest side of the kept (sealed) copy of an accepted photo.
KEPT_PHOTO_PX = 480


class Quality(StrEnum):
    """Verdict on one enrollment photo."""

    OK = "ok"
    NO_FACE = "no-face"
    SEVERAL_FACES = "several-faces"
    TOO_SMALL = "too-small"


_ADVICE = {
    Quality.NO_FACE: N_("no face found; use a frontal, well-lit portrait"),
    Quality.SEVERAL_FACES: N_("several faces; crop the photo to the delegate alone"),
    Quality.TOO_SMALL: N_("face too small (%(px)s px wide, need %(min)s); use a closer or larger photo"),
}


class PhotoUnreadable(CongressError):
    """A photo file is not an image that can be decoded; ``text`` is the message for the page."""

    def __init__(self, text: Message | str) -> None:
        super().__init__(str(text))
        self.text = text


@dataclass(frozen=True)
class PhotoResult:
    """Outcome of :meth:`Enroller.add_photo`; ``new`` is False when the same photo was already there."""

    source: str
    quality: Quality
    problem: str = ""
    face_px: int | None = None
    new: bool = True
    advice: Message | None = None  # ``problem`` for the page, translated there

    @property
    def ok(self) -> bool:
        return self.quality is Quality.OK


def bump_revision(session: Session) -> int:
    """Mark the face data as changed (the gallery publisher rebuilds); return the new revision."""
    if (
        session.execute(
            update(GalleryState)
            .where(GalleryState.id == 1)
            .values(revision=GalleryState.revision + 1, changed_at=utcnow())
        ).rowcount
        == 0
    ):
        session.add(GalleryState(id=1, revision=1, changed_at=utcnow()))
        session.flush()
    return session.scalar(select(GalleryState.revision).where(GalleryState.id == 1))


def _box_width(face) -> float:
    return face.detection.width


class Enroller:
    """Turns photos into sealed embeddings; the face engine is loaded on first use only.

    ``engine_factory`` builds a ``congress.faces.FaceEngine`` (badge-only imports never load models).
    """

    def __init__(
        self,
        vault: FaceVault,
        data_dir: Path,
        engine_factory: Callable[[], object],
        *,
        min_face_px: int = MIN_FACE_PX,
    ) -> None:
        self.vault = vault
        self.photo_dir = Path(data_dir) / FACES_DIR
        self._factory = engine_factory
        self._engine = None
        self.min_face_px = min_face_px

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._factory()
        return self._engine

    @property
    def model(self) -> str:
        """The embedder of the engine (recorded with every embedding it seals)."""
        return getattr(self.engine, "model", "dlib-resnet")

    def reenroll(self, session: Session) -> dict[str, int]:
        """Embed again, with this enroller's embedder, every enrolled photo made by another one.

        Uses the sealed copy kept of each photo; a photo with no kept copy is marked rejected with
        advice to upload it again. Returns counts ``{"reenrolled", "rejected", "missing_photo"}``.
        """
        counts = {"reenrolled": 0, "rejected": 0, "missing_photo": 0}
        rows = session.scalars(select(FacePhoto).where(FacePhoto.status == EnrollStatus.ENROLLED,
                                                       FacePhoto.embedder != self.model)).all()
        for row in rows:
            jpg = self.kept_photo(row.delegate_id, row.id)
            if jpg is None:
                row.status, row.embedding = EnrollStatus.REJECTED, None
                row.problem = (f"enrolled with the {row.embedder} embedder and no copy was kept; "
                               "upload the photo again")[:255]
                counts["missing_photo"] += 1
                continue
            quality, det, _ = self.assess(self.decode(jpg, row.source))
            if quality is not Quality.OK:
                row.status, row.embedding = EnrollStatus.REJECTED, None
                row.problem = _ADVICE[quality].format(px=row.face_px, min=self.min_face_px)
                counts["rejected"] += 1
                continue
            row.embedding = self.vault.seal_embedding(
                np.asarray(det.embedding, np.float32), embedding_aad(row.delegate_id, row.id))
            row.embedder = self.model
            counts["reenrolled"] += 1
        if rows:
            bump_revision(session)
        return counts

    def decode(self, data: bytes, source: str) -> np.ndarray:
        from congress.faces import decode_image

        try:
            return decode_image(data, name=source)
        except ImageError as exc:
            raise PhotoUnreadable(exc.text) from None

    def check_readable(self, data: bytes, source: str) -> np.ndarray:
        """The decoded image; :class:`PhotoUnreadable` unless ``data`` decodes as an image."""
        return self.decode(data, source)

    def assess(self, image: np.ndarray):
        """(quality, the face detection or None, face width in pixels)."""
        # Enrollment photos are flip-averaged (photo and mirror image): the gallery then matches the
        # door's single-pass embeddings better, at no cost at the door (docs/benchmarks.md, Face engine).
        faces = list(self.engine.faces(image, flip=True))
        if not faces:
            return Quality.NO_FACE, None, None
        faces.sort(key=_box_width, reverse=True)
        width = _box_width(faces[0])
        if len(faces) > 1 and _box_width(faces[1]) >= SECOND_FACE_RATIO * width:
            return Quality.SEVERAL_FACES, None, int(width)
        if width < self.min_face_px:
            return Quality.TOO_SMALL, None, int(width)
        return Quality.OK, faces[0], int(width)

    def add_photo(self, session: Session, delegate_id: str, data: bytes, source: str,
                  image: np.ndarray | None = None) -> PhotoResult:
        """Enroll one photo of ``delegate_id`` (in the caller's transaction); ``image`` is ``data``
        already decoded, if the caller has it."""
        digest = hashlib.sha256(data).hexdigest()
        existing = session.scalar(
            select(FacePhoto).where(FacePhoto.delegate_id == delegate_id, FacePhoto.sha256 == digest)
        )
        if (existing is not None and existing.status is EnrollStatus.ENROLLED
                and existing.embedder == self.model):
            return PhotoResult(source, Quality.OK, face_px=existing.face_px, new=False)
        image = self.decode(data, source) if image is None else image
        quality, det, px = self.assess(image)
        row = existing or FacePhoto(delegate_id=delegate_id, sha256=digest)
        row.source, row.face_px, row.created_at = source[:255], px, utcnow()
        if quality is not Quality.OK:
            row.status, row.embedding = EnrollStatus.REJECTED, None
            advice = M_(_ADVICE[quality], px=px, min=self.min_face_px)
            row.problem = str(advice)
            session.add(row)
            session.flush()
            return PhotoResult(source, quality, row.problem, px, advice=advice)
        row.status, row.problem, row.embedder = EnrollStatus.ENROLLED, "", self.model
        if self.vault.purged:  # a purge ran since this enroller was made: never seal with the old key
            self.vault = FaceVault.load(self.photo_dir.parent)
        session.add(row)
        session.flush()  # the row id is part of the sealed data's associated data
        row.embedding = self.vault.seal_embedding(
            np.asarray(det.embedding, np.float32), embedding_aad(delegate_id, row.id)
        )
        self._keep_photo(delegate_id, row.id, image)
        bump_revision(session)
        return PhotoResult(source, Quality.OK, face_px=px)

    def _keep_photo(self, delegate_id: str, photo_id: int, image: np.ndarray) -> None:
        import cv2

        h, w = image.shape[:2]
        scale = min(1.0, KEPT_PHOTO_PX / max(h, w))
        small = cv2.resize(image, (int(w * scale), int(h * scale))) if scale < 1 else image
        ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])  # decode_image gives BGR
        if not ok:
            return
        self.photo_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.photo_dir / f"{photo_id}.sealed"
        path.write_bytes(self.vault.seal(jpg.tobytes(), photo_aad(delegate_id, photo_id)))
        path.chmod(0o600)

    def kept_photo(self, delegate_id: str, photo_id: int) -> bytes | None:
        """The JPEG kept for an enrolled photo (decrypted), or None."""
        path = self.photo_dir / f"{photo_id}.sealed"
        if not path.is_file():
            return None
        return self.vault.open(path.read_bytes(), photo_aad(delegate_id, photo_id))

    def forget(self, session: Session, delegate_id: str) -> int:
        """Delete every face record and kept photo of one delegate; return how many photos went."""
        ids = list(session.scalars(select(FacePhoto.id).where(FacePhoto.delegate_id == delegate_id)))
        if not ids:
            return 0
        session.execute(delete(FacePhoto).where(FacePhoto.delegate_id == delegate_id))
        for pid in ids:
            (self.photo_dir / f"{pid}.sealed").unlink(missing_ok=True)
        bump_revision(session)
        return len(ids)


def enrolled_embeddings(
    session: Session, vault: FaceVault | Callable[[], FaceVault], *, model: str | None = None
) -> tuple[list[str], np.ndarray]:
    """Every enrolled embedding (of embedder ``model``, if given), decrypted, ordered by delegate (for
    the gallery builder). Embeddings of another embedder are left out: they wait for ``reenroll``.

    ``vault`` may be a function giving it: it is then called only when there is something to decrypt,
    so an empty gallery (after the purge) does not create a new face key.
    """
    from controller.storage.tables import Delegate

    rows = session.execute(
        select(FacePhoto.delegate_id, FacePhoto.id, FacePhoto.embedding)
        .join(Delegate, Delegate.id == FacePhoto.delegate_id)
        .where(FacePhoto.status == EnrollStatus.ENROLLED, Delegate.consent.is_(True),
               *([FacePhoto.embedder == model] if model else []))
        .order_by(FacePhoto.delegate_id, FacePhoto.id)
    ).all()
    ids = [r[0] for r in rows]
    if rows and not isinstance(vault, FaceVault):
        vault = vault()
    embs = [vault.open_embedding(r[2], embedding_aad(r[0], r[1])) for r in rows]
    dim = embs[0].shape[0] if embs else 128
    return ids, (np.stack(embs).astype(np.float32) if embs else np.zeros((0, dim), np.float32))


def build_enroller(cfg) -> Enroller:
    """The enroller for a controller configuration: face key from the secret or the data dir, models
    from the installed ``models/`` folder (loaded on the first photo)."""
    def face_engine():
        from congress.faces import FaceEngine  # OpenCV and LiteRT only once a photo comes in

        return FaceEngine(model=cfg.faces.model)

    return Enroller(FaceVault.load(cfg.data_dir), cfg.data_dir, face_engine)


def purge_biometrics(db: Database, data_dir: Path, *, actor: str, scrub_timeout_s: float = 300.0) -> dict:
    """Delete all face data so that none of it can be recovered from the controller's files.

    In one transaction: every embedding and photo row, the gallery revision bumped (the gallery
    publisher, :mod:`controller.delegates.gallery`, then sends every unit an empty gallery that
    replaces the retained one on the broker and the unit's stored gallery), candidates' photos
    unlinked from their rows, and the audit row. Then, after the commit: the kept photos (``faces/``),
    the candidates' photos (``candidates/``) and every uploaded roster and photo
    (``imports/``) are overwritten with zeros and unlinked (:func:`congress.files.shred`), the face key
    file likewise; the database is rebuilt without the deleted rows' pages (SQLite: ``VACUUM``, then
    the write-ahead log checkpointed and truncated, retried while a reader holds it; PostgreSQL:
    ``TRUNCATE`` of the photo table, so no dead tuple keeps a sealed embedding — a ``DELETE`` would
    leave them to a ``VACUUM`` that keeps whatever an older snapshot may still see). A purge cut short
    after the commit is finished by running it again.

    The result says what was destroyed (``destroyed``) and what only the operator can delete
    (``operator_must_delete``): a face key given as a secret lives in their own store, and on
    PostgreSQL ``pg_wal`` keeps the sealed embeddings until its segments are recycled (they open only
    with that key). See ``docs/security.md`` (item 10).
    """
    from congress.config import read_secret
    from congress.files import shred
    from controller import audit

    data_dir = Path(data_dir)
    faces_dir, imports_dir, key_file = data_dir / FACES_DIR, data_dir / IMPORTS_DIR, data_dir / KEY_FILE
    face_files = _files(faces_dir)
    import_files = _files(imports_dir)
    candidate_files = _files(data_dir / CANDIDATES_DIR)
    with db.session() as s:
        photos = s.scalar(select(func.count()).select_from(FacePhoto)) or 0
        enrolled = s.scalar(
            select(func.count()).select_from(FacePhoto).where(FacePhoto.status == EnrollStatus.ENROLLED)
        ) or 0
        if db.backend == "postgresql":
            # TRUNCATE gives the table a new, empty file at the commit; a DELETE would leave dead tuples
            # that VACUUM FULL must keep while any older snapshot is open.
            s.execute(text("TRUNCATE face_photos"))
        else:
            s.execute(delete(FacePhoto))
        s.execute(text("UPDATE candidates SET photo = NULL"))
        revision = bump_revision(s)
        result = {"photos": photos, "embeddings": enrolled, "files": len(face_files),
                  "import_files": len(import_files), "candidate_photo_files": len(candidate_files),
                  "key_file_removed": key_file.exists(),
                  "gallery_revision": revision}
        audit.record(s, actor, "biometrics.purge", result)
    for f in face_files + import_files + candidate_files:
        shred(f)
    shutil.rmtree(faces_dir, ignore_errors=True)
    shutil.rmtree(imports_dir, ignore_errors=True)
    shutil.rmtree(data_dir / CANDIDATES_DIR, ignore_errors=True)
    shred(key_file)
    scrubbed = _scrub_database(db, scrub_timeout_s)
    destroyed = [f"{enrolled} face templates and {photos} photo records (database rows)",
                 f"{len(face_files)} sealed photo files in {faces_dir}",
                 f"{len(import_files)} uploaded roster and photo files in {imports_dir}",
                 f"{len(candidate_files)} sealed candidates' photos in {data_dir / CANDIDATES_DIR}"]
    if result["key_file_removed"]:
        destroyed.append(f"the face key file {key_file}")
    destroyed.append("the database's free pages and write-ahead log" if scrubbed
                     else "NOT the write-ahead log: a reader held it (run the purge again)")
    must = []
    if read_secret("face-key", required=False):
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        systemd = creds and (Path(creds) / "face-key").is_file()
        where = ("the file systemd loads as credential face-key (LoadCredential=face-key:... in the unit)"
                 if systemd else "the environment variable CONGRESS_FACE_KEY")
        must.append(f"the secret face-key in your own store ({where}): anything sealed with it opens "
                    "with it, so destroy it and every copy")
    if db.backend == "postgresql":
        must.append("PostgreSQL's pg_wal and any base backup or WAL archive still hold the sealed templates "
                    "until recycled: they open only with the face key, which must be gone")
    must.append("backups of the database or of the data folder taken during the congress")
    result.update(destroyed=destroyed, operator_must_delete=must, database_scrubbed=scrubbed)
    log.warning("purged all face data: %s", {k: result[k] for k in ("photos", "embeddings", "files",
                                                                     "import_files", "database_scrubbed")})
    return result


def _files(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _scrub_database(db: Database, timeout_s: float) -> bool:
    """Rebuild the storage of the deleted rows (see :func:`purge_biometrics`); False if the SQLite
    write-ahead log could not be truncated within ``timeout_s``."""
    from sqlalchemy.exc import DBAPIError

    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if db.backend == "sqlite":
                conn.exec_driver_sql("VACUUM")
            else:
                conn.execute(text("VACUUM FULL face_photos"))  # after the TRUNCATE: cheap, and sure
                with contextlib.suppress(DBAPIError):  # CHECKPOINT needs pg_checkpoint; it only hurries
                    conn.execute(text("CHECKPOINT"))
    except DBAPIError as exc:
        log.error("purge: the database could not be rebuilt (%s); run the purge again", type(exc).__name__)
        return False
    return db.truncate_wal(timeout_s=timeout_s)
