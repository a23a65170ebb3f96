"""``congress controller run`` publishes the sealed gallery: delegates enrolled from real photos reach a
real door unit (its publisher, gallery sync and store, on the real broker) and are recognised there;
SIGTERM stops the controller, gallery thread included, with exit status 0."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from congress import gallery_keys, pki
from congress.broker import free_port
from congress.config.common import BrokerSection
from congress.link.outbox import Outbox
from congress.link.publisher import Publisher
from edge.gallery import GalleryStore
from edge.gallery_sync import GallerySync
from tests.controller.conftest import FAST_HASH

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "faces"


def lfw(name: str, n: int) -> Path:
    return FACES / "lfw-dev" / "images" / name / f"{name}_{n:04d}.jpg"


def write_config(tmp_path: Path, venue_ca, broker) -> Path:
    p = tmp_path / "controller.toml"
    p.write_text(f"""data_dir = "{tmp_path / 'data'}"
ca_dir = "{venue_ca.dir}"
[venue]
id = "{venue_ca.venue}"
[database]
url = "sqlite:///{tmp_path}/run.db"
[broker]
host = "localhost"
port = {broker.port}
ca_file = "{venue_ca.ca_cert}"
cert_file = "{venue_ca.controller_cert}"
key_file = "{venue_ca.controller_key}"
[web]
port = {free_port()}
[security]
argon2_memory_kib = {FAST_HASH["memory_kib"]}
argon2_time_cost = {FAST_HASH["time_cost"]}
""")
    return p


def door_unit(venue_ca, broker, data: Path, unit: str = "door-1"):
    creds = venue_ca.unit(unit)
    store = GalleryStore(data, gallery_keys.parse_key(creds.gallery_key.read_text(), "key"), venue_ca.venue,
                         unit)
    outbox = Outbox(data / "outbox.db", 100, boot_id="b")
    section = BrokerSection(host="localhost", port=broker.port, ca_file=creds.ca_cert, cert_file=creds.cert,
                            key_file=creds.key)
    pub = Publisher(broker=section, venue_id=venue_ca.venue, unit_id=unit,
                    signing_key=pki.load_signing_key(creds.signing_key),
                    controller_key=pki.load_public_key(creds.controller_pub), outbox=outbox,
                    health=lambda: {"gallery_version": store.version}, on_gallery=GallerySync(store))
    return store, pub, outbox


def wait(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not FACES.is_dir(), reason="face photos (../shared/data/faces) not present")
def test_controller_run_sends_enrolled_delegates_sealed_to_a_real_unit(tmp_path, venue_ca, broker,
                                                                      monkeypatch):
    from congress.cli import main
    from congress.config import load_config
    from congress.config.controller import ControllerConfig
    from congress.faces import FaceEngine, decode_image
    from controller.app import open_database
    from controller.delegates import roster as delegates
    from controller.delegates.enrollment import build_enroller

    monkeypatch.delenv("CONGRESS_FACE_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    people = sorted(p.name for p in (FACES / "lfw-dev" / "images").iterdir()
                    if (p / f"{p.name}_0002.jpg").is_file())[:3]
    imports = tmp_path / "roster"
    imports.mkdir()
    for i, name in enumerate(people):
        shutil.copy(lfw(name, 1), imports / f"p{i}.jpg")
    (imports / "roster.csv").write_text("id,name,photo,consent\n" + "".join(
        f"D-{i},{name.replace('_', ' ')},p{i}.jpg,yes\n" for i, name in enumerate(people)))
    cfg_file = write_config(tmp_path, venue_ca, broker)
    assert main(["controller", "migrate", "--config", str(cfg_file)]) == 0
    store, unit_pub, outbox = door_unit(venue_ca, broker, tmp_path / "door-1")
    unit_pub.start()
    proc = subprocess.Popen([sys.executable, "-m", "congress", "controller", "run", "--config",
                             str(cfg_file)], stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    drain = threading.Thread(target=lambda: lines.extend(proc.stderr), name="controller-log")
    try:
        for line in proc.stderr:
            lines.append(line)
            if "controller page at" in line:
                break
        drain.start()  # keeps reading, so a full pipe never blocks the controller
        assert wait(lambda: store.path.exists())  # the empty gallery of a controller without delegates
        first = store.version
        cfg = load_config(cfg_file, ControllerConfig)
        db = open_database(cfg)
        report = delegates.import_roster(db, imports / "roster.csv", enroller=build_enroller(cfg), actor="t")
        db.dispose()
        assert report.as_dict()["photos_enrolled"] == 3, report.as_dict()
        assert wait(lambda: store.version > first and len(store.index) == 3)
        engine = FaceEngine()
        for i, name in enumerate(people):  # another photo of each delegate is recognised at the door
            faces = engine.faces(decode_image(lfw(name, 2)))
            assert store.index.search(faces[0].embedding).identity == f"D-{i}"
        assert b"D-0" not in store.path.read_bytes()  # ids and templates are sealed at rest
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        if drain.is_alive():
            drain.join(10)
        proc.stderr.close()
        err = "".join(lines)
        unit_pub.stop()
        outbox.close()
    assert code == 0, err
    assert "Traceback" not in err
