"""Helpers of the door-unit tests: a unit configuration on the test broker, and a real gallery.

``write_config`` writes the same TOML a technician would, with a replay camera and mock GPIO pins.
``enroll`` embeds enrollment photos with the real face engine (the controller does the same) and
``install_gallery`` seals and stores them with the unit's gallery key, as a gallery sync would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from congress.faces import decode_image
from edge.camera.replay import letterbox
from edge.gallery import GalleryStore

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces"


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, tables: dict[str, dict]) -> Path:
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def unit_tables(tmp: Path, venue_ca, broker, unit_id: str, playlist: Path, **overrides) -> dict:
    creds = venue_ca.unit(unit_id)
    data = tmp / f"{unit_id}-data"
    data.mkdir(parents=True, exist_ok=True)
    key_file = data / "gallery.key"
    if not key_file.exists():  # the unit's issued gallery key, as congress flash puts it on the card
        key_file.write_text(creds.gallery_key.read_text())
        key_file.chmod(0o600)
    tables = {
        "venue": {"id": venue_ca.venue},
        "unit": {"id": unit_id, "data_dir": str(data), "signing_key_file": str(creds.signing_key),
                 "controller_key_file": str(creds.controller_pub)},
        "broker": {"host": "localhost", "port": broker.port, "ca_file": str(creds.ca_cert),
                   "cert_file": str(creds.cert), "key_file": str(creds.key)},
        "door": {"id": "north", "liveness": False},
        "camera": {"type": "replay", "path": str(playlist), "hold_frames": 4, "fps": 10.0},
        # Calibrated on the celebrity photos (SFace): same person >= 0.47, different people <= 0.43.
        "recognition": {"confirm_frames": 3, "min_score": 0.5, "min_margin": 0.05, "debounce_s": 60.0},
        "feedback": {"pin_factory": "mock"},
        "status": {"heartbeat_s": 1.0},
    }
    for k, v in overrides.items():
        tables.setdefault(k, {}).update(v)
    return tables


def enroll(analyzer, photos: dict[str, list[Path]]) -> tuple[list[str], np.ndarray]:
    ids, rows = [], []
    for delegate, paths in photos.items():
        for p in paths:
            faces = analyzer.analyze(letterbox(decode_image(p), (640, 480)))
            assert faces, f"no face in enrollment photo {p}"
            ids.append(delegate)
            rows.append(faces[0].embedding)
    return ids, np.array(rows, dtype=np.float32)


def install_gallery(cfg, ids, emb, version: int = 1) -> None:
    from edge.main import gallery_key

    store = GalleryStore(cfg.unit.data_dir, gallery_key(cfg), cfg.venue.id, cfg.unit.id)
    assert store.install_plain(version, ids, emb)


def playlist(path: Path, items: list[tuple[str, int]]) -> Path:
    path.write_text("".join(f"{(FACES / rel).resolve()} {hold}\n" for rel, hold in items))
    return path
