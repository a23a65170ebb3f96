"""Gallery publishing: the enrolled face templates to every door unit, sealed for that unit alone.

The enrollment code bumps ``gallery_state.revision`` on every change of face data (a photo enrolled, a
delegate opting out, the purge). :class:`GalleryPublisher` (thread ``gallery``) notices within
``interval_s``, decrypts the embeddings of consenting delegates (:func:`controller.delegates.enrollment.
enrolled_embeddings`) and, for each known unit, seals them to that unit's X25519 gallery key
(:mod:`controller.delegates.gallery_parts`, :mod:`congress.gallery_crypto`): the sealed parts go retained
(QoS 1)
to ``.../unit/<id>/gallery/<part>``, then the signed manifest to ``.../unit/<id>/gallery``; part topics
left over from a bigger earlier gallery are cleared. The broker (and its persistence file) therefore
holds only ciphertext, and the ACL lets only that unit read its topics. ``gallery_publications``
records version, part count and key fingerprint per unit: a unit issued later, or re-issued with a new
key, gets the current gallery on the next pass; a unit whose heartbeats still report an older gallery
``resend_after_s`` after it was sent the current one (the broker lost its retained messages) gets it
again. A revoked unit gets nothing more, and its retained gallery topics are cleared.

After ``congress controller purge-biometrics`` the revision is new and the gallery empty: every unit is
sent an empty gallery, which replaces the retained parts and the unit's stored gallery.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from congress import wire
from congress.errors import BrokerError
from controller.delegates.enrollment import enrolled_embeddings
from controller.delegates.face_vault import FaceVault
from controller.delegates.gallery_parts import PART_TEMPLATES, key_id, plain_parts, unit_messages
from controller.storage.database import Database, utcnow
from controller.storage.tables import GalleryPublication, GalleryState, UnitHealth

log = logging.getLogger(__name__)

__all__ = ["PART_TEMPLATES", "GalleryPublisher", "build_gallery_publisher", "mqtt_publisher"]


class Units(Protocol):
    """What the publisher needs from :class:`controller.checkins.unit_registry.UnitRegistry`."""

    def known_units(self) -> list[str]: ...
    def gallery_key(self, unit_id: str) -> bytes | None: ...
    def revoked_units(self) -> list[str]: ...


class GalleryPublisher:
    """Thread ``gallery``: keeps every known unit's retained gallery at the current enrollment revision.

    ``publish(topic, payload)`` sends one retained QoS 1 message and returns once the broker has it
    (raises on failure); in the controller it is :meth:`controller.link.ControllerLink.publish_retained`
    and ``counter`` the link's boot counter. :meth:`run_once` is one pass and is what tests and the purge
    command call.
    """

    def __init__(
        self,
        db: Database,
        vault: FaceVault | Callable[[], FaceVault],
        *,
        venue_id: str,
        units: Units,
        signing_key: Ed25519PrivateKey,
        publish: Callable[[str, bytes], None],
        counter: wire.BootCounter | None = None,
        interval_s: float = 2.0,
        resend_after_s: float = 300.0,
        model: str = "sface",
    ) -> None:
        self.db, self.vault, self.venue_id = db, vault, venue_id
        #: The embedder whose templates are published (``[faces] model``); other rows wait for reenroll.
        self.model = model
        self.units, self._key, self._publish = units, signing_key, publish
        self.interval_s = interval_s
        #: A unit that reports an older gallery this long after it was sent one gets it again.
        self.resend_after_s = resend_after_s
        self._counter = counter or wire.BootCounter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._built: tuple[int, int, list[bytes]] | None = None  # revision, templates, part plaintexts
        self._missing_key: set[str] = set()

    def _current(self) -> tuple[int, int, list[bytes]]:
        with self.db.session() as s:
            state = s.get(GalleryState, 1)
            revision = state.revision if state else 0
            if self._built is None or self._built[0] != revision:
                ids, emb = enrolled_embeddings(s, self.vault, model=self.model)
                self._built = (revision, len(ids), plain_parts(ids, np.asarray(emb), self.model))
        return self._built

    def _clear(self, unit: str, first_part: int, parts: int) -> None:
        """Delete retained part topics ``first_part..parts-1`` of ``unit`` (an empty retained message)."""
        for n in range(first_part, parts):
            self._publish(wire.gallery_part_topic(self.venue_id, unit, n), b"")

    def _behind(self, s, version: int) -> dict[str, int]:
        """Units sent ``version`` more than ``resend_after_s`` ago whose heartbeats, sent since then,
        still report an older gallery: ``{unit: version it reports}`` (sent again, at that pace)."""
        cutoff = utcnow() - dt.timedelta(seconds=self.resend_after_s)
        rows = s.execute(
            select(GalleryPublication.unit_id, UnitHealth.versions, UnitHealth.last_seen,
                   GalleryPublication.published_at)
            .join(UnitHealth, UnitHealth.unit_id == GalleryPublication.unit_id)
            .where(GalleryPublication.version == version, GalleryPublication.published_at < cutoff,
                   UnitHealth.online.is_(True))
        ).all()
        out = {}
        for unit, versions, last_seen, published in rows:
            reported = (versions or {}).get("gallery")
            if isinstance(reported, int) and reported < version and last_seen and last_seen > cutoff \
                    and last_seen > published + dt.timedelta(seconds=self.resend_after_s):
                out[unit] = reported
        return out

    def run_once(self) -> dict[str, int]:
        """Publish the current gallery to every unit that does not have it; ``{unit: templates}``."""
        version, templates, plaintexts = self._current()
        with self.db.session() as s:
            sent = {r.unit_id: (r.version, r.key_id, r.parts) for r in s.scalars(select(GalleryPublication))}
            behind = self._behind(s, version)
        done: dict[str, int] = {}
        for unit in self.units.known_units():
            pub = self.units.gallery_key(unit)
            if pub is None:
                if unit not in self._missing_key:
                    log.error("unit %s has no gallery key in the CA folder: no gallery sent to it", unit)
                    self._missing_key.add(unit)
                continue
            kid = key_id(pub)
            before = sent.get(unit)
            if before is not None and before[:2] == (version, kid) and unit not in behind:
                continue
            if unit in behind:
                log.warning("unit %s still reports gallery version %d, %d was published to it; sending it "
                            "again (broker lost its retained messages, or the unit holds another gallery "
                            "key: see its log)", unit, behind[unit], version)
            parts, manifest = unit_messages(self.venue_id, unit, pub, version, plaintexts, self._key,
                                            self._counter)
            for topic, payload in parts:
                self._publish(topic, payload)
            self._publish(*manifest)
            if before is not None and before[2] > len(parts):
                self._clear(unit, len(parts), before[2])
            with self.db.session() as s:
                row = s.get(GalleryPublication, unit) or GalleryPublication(unit_id=unit)
                row.version, row.entries, row.parts, row.key_id = version, templates, len(parts), kid
                row.published_at = utcnow()
                s.add(row)
            done[unit] = templates
            log.info("gallery version %d (%d templates, %d sealed parts) published to %s",
                     version, templates, len(parts), unit)
        for unit in set(self.units.revoked_units()) & set(sent):
            self._publish(wire.unit_topic(self.venue_id, unit, wire.Kind.GALLERY), b"")
            self._clear(unit, 0, sent[unit][2])
            with self.db.session() as s:
                row = s.get(GalleryPublication, unit)
                if row is not None:
                    s.delete(row)
            log.warning("unit %s is revoked: its retained gallery was removed from the broker", unit)
        return done

    def start(self) -> GalleryPublisher:
        self._thread = threading.Thread(target=self._run, name="gallery", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        broker_away = False
        while not self._stop.is_set():
            try:
                self.run_once()
                broker_away = False
            except BrokerError as exc:  # the broker away: said once, tried again on every pass
                if not broker_away:
                    log.warning("gallery publishing waits for the broker: %s", exc.message)
                broker_away = True
            except Exception:  # database busy: try again on the next pass
                log.exception("gallery publishing failed; retrying in %.0f s", self.interval_s)
            self._stop.wait(self.interval_s)


def mqtt_publisher(client, timeout: float = 30.0) -> Callable[[str, bytes], None]:
    """``publish`` for :class:`GalleryPublisher` on a connected paho client (retained, QoS 1)."""

    def publish(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise BrokerError(f"the broker did not confirm the gallery for {topic} within {timeout:.0f} s")

    return publish


def build_gallery_publisher(cfg, db: Database, publish: Callable[[str, bytes], None], registry, *,
                            counter: wire.BootCounter | None = None) -> GalleryPublisher:
    """The publisher for a controller configuration, sending with ``publish`` (see
    :class:`GalleryPublisher`)."""
    from congress import pki

    return GalleryPublisher(
        db, lambda: FaceVault.load(cfg.data_dir), venue_id=cfg.venue.id, units=registry,
        signing_key=pki.load_signing_key(cfg.ca_dir / "controller-signing.key"),
        publish=publish, counter=counter, model=cfg.faces.model,
    )
