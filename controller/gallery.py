"""Gallery publishing: the enrolled face templates to every door unit, whenever enrollment changes.

The enrollment code bumps ``gallery_state.revision`` on every change of face data (a photo enrolled, a
delegate opting out, the purge). :class:`GalleryPublisher` (thread ``gallery``) notices within
``interval_s``, decrypts the embeddings of consenting delegates (:func:`controller.enrollment.
enrolled_embeddings`), and sends each known unit a full :class:`congress.wire.GalleryUpdate` whose
``version`` is the revision: addressed to that unit alone, signed with the controller key, QoS 1 and
*retained* on the unit's own gallery topic (the broker's ACL lets only that unit read it), so a unit
that was off gets it on connecting. A gallery bigger than the wire's part limit is split into parts.
Which version each unit was sent is kept in ``gallery_publications``; a unit issued later gets the
current gallery on the next pass. The unit seals what it receives under its own gallery key
(:mod:`congress.gallery_crypto`) before writing it to disk.

After ``congress controller purge-biometrics`` the revision is new and the gallery empty: every unit is
sent an empty gallery, which replaces the retained message and the unit's stored gallery.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from congress import wire
from controller.db import Database, utcnow
from controller.enrollment import enrolled_embeddings
from controller.face_vault import FaceVault
from controller.models import GalleryPublication, GalleryState

log = logging.getLogger(__name__)

#: Templates per GalleryUpdate part: about 0.75 KiB each in base64, far below the 8 MiB part limit.
PART_TEMPLATES = 4000


def gallery_messages(
    venue_id: str, unit_id: str, version: int, ids: list[str], emb: np.ndarray,
    key: Ed25519PrivateKey, counter: wire.BootCounter,
) -> list[bytes]:
    """The signed payloads of one full gallery for one unit (``ids`` sorted, rows grouped by id)."""
    groups: list[wire.GalleryEntry] = []
    i = 0
    while i < len(ids):
        j = i
        while j < len(ids) and ids[j] == ids[i]:
            j += 1
        groups.append(wire.GalleryEntry(ids[i], np.ascontiguousarray(emb[i:j], dtype="<f4").tobytes()))
        i = j
    parts: list[list[wire.GalleryEntry]] = [[]]
    rows = 0
    for g in groups:
        n = len(g.embeddings) // (emb.shape[1] * 4)
        if parts[-1] and rows + n > PART_TEMPLATES:
            parts.append([])
            rows = 0
        parts[-1].append(g)
        rows += n
    dim = int(emb.shape[1]) if emb.ndim == 2 and emb.shape[1] else 128
    return [
        wire.encode(
            wire.GalleryUpdate(venue=venue_id, unit=unit_id, boot=counter.boot, seq=counter.next(),
                               version=version, full=True, part=n, parts=len(parts), dim=dim, dtype="f4",
                               entries=tuple(p)),
            key,
        )
        for n, p in enumerate(parts)
    ]


class GalleryPublisher:
    """Thread ``gallery``: keeps every known unit's retained gallery at the current enrollment revision.

    ``publish(topic, payload)`` sends one retained QoS 1 message and returns once the broker has it
    (raises on failure); :meth:`run_once` is one pass and is what tests and the purge command call.
    """

    def __init__(
        self,
        db: Database,
        vault: FaceVault | Callable[[], FaceVault],
        *,
        venue_id: str,
        units: Callable[[], list[str]],
        signing_key: Ed25519PrivateKey,
        publish: Callable[[str, bytes], None],
        interval_s: float = 2.0,
    ) -> None:
        self.db, self.vault, self.venue_id = db, vault, venue_id
        self.units, self._key, self._publish = units, signing_key, publish
        self.interval_s = interval_s
        self._counter = wire.BootCounter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._built: tuple[int, list[str], np.ndarray] | None = None

    def _current(self) -> tuple[int, list[str], np.ndarray]:
        with self.db.session() as s:
            state = s.get(GalleryState, 1)
            revision = state.revision if state else 0
            if self._built is None or self._built[0] != revision:
                ids, emb = enrolled_embeddings(s, self.vault)
                self._built = (revision, ids, emb)
        return self._built

    def run_once(self) -> dict[str, int]:
        """Publish the current gallery to every unit that does not have it; ``{unit: templates}``."""
        version, ids, emb = self._current()
        with self.db.session() as s:
            sent = dict(s.execute(select(GalleryPublication.unit_id, GalleryPublication.version)).all())
        done: dict[str, int] = {}
        for unit in self.units():
            if sent.get(unit) == version:
                continue
            for payload in gallery_messages(self.venue_id, unit, version, ids, emb, self._key, self._counter):
                self._publish(wire.unit_topic(self.venue_id, unit, wire.Kind.GALLERY), payload)
            with self.db.session() as s:
                row = s.get(GalleryPublication, unit) or GalleryPublication(unit_id=unit)
                row.version, row.entries, row.published_at = version, len(ids), utcnow()
                s.add(row)
            done[unit] = len(ids)
            log.info("gallery version %d (%d templates) published to %s", version, len(ids), unit)
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
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # broker away or database busy: try again on the next pass
                log.exception("gallery publishing failed; retrying in %.0f s", self.interval_s)
            self._stop.wait(self.interval_s)


def mqtt_publisher(client, timeout: float = 30.0) -> Callable[[str, bytes], None]:
    """``publish`` for :class:`GalleryPublisher` on a connected paho client (retained, QoS 1)."""
    from congress.errors import BrokerError

    def publish(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise BrokerError(f"the broker did not confirm the gallery for {topic} within {timeout:.0f} s")

    return publish


def build_gallery_publisher(cfg, db: Database, client, registry) -> GalleryPublisher:
    """The publisher for a controller configuration, on an already connected controller MQTT client."""
    from congress import pki

    return GalleryPublisher(
        db, lambda: FaceVault.load(cfg.data_dir), venue_id=cfg.venue.id, units=registry.known_units,
        signing_key=pki.load_signing_key(cfg.ca_dir / "controller-signing.key"),
        publish=mqtt_publisher(client),
    )


class GalleryService:
    """The gallery publisher on its own MQTT connection (controller identity, client id
    ``controller-gallery``), for ``congress controller run``: construct, :meth:`start`, :meth:`stop`."""

    def __init__(self, cfg, db: Database, *, interval_s: float = 2.0) -> None:
        self.cfg, self.db, self.interval_s = cfg, db, interval_s
        self.publisher: GalleryPublisher | None = None
        self._client = None

    def start(self) -> GalleryService:
        """Connect (raises BrokerError with the reason) and start thread ``gallery``."""
        from congress import mqtt
        from controller.unit_registry import UnitRegistry

        b = self.cfg.broker
        client = mqtt.make_client_from_config(b, client_id="controller-gallery")
        mqtt.connect(client, b.host, b.port, keepalive=b.keepalive_s)
        self._client = client
        self.publisher = build_gallery_publisher(self.cfg, self.db, client, UnitRegistry(self.cfg.ca_dir))
        self.publisher.interval_s = self.interval_s
        self.publisher.start()
        return self

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
