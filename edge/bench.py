"""``congress edge bench``: measure a real door-unit process end to end on this machine.

Sets up, in a temporary folder, a venue CA, a private Mosquitto (TLS, client certificates, ACL), a
unit whose gallery holds the first photo of every identity folder in ``--images``, and a replay camera
that shows the other photos (each for ``hold`` frames at ``fps``, one identity after another). Then it
starts ``congress edge run`` as its own process with a ``NOTIFY_SOCKET`` and measures:

* ``ready_s``: process start to systemd ``READY=1`` (imports, model load and sha256 check, camera);
* ``p50_ms`` / ``p99_ms``: frame-to-publish latency — from the moment the deciding frame left the
  camera (the check-in's ``mono_ms``, CLOCK_MONOTONIC is system-wide) until the signed check-in
  arrived at a subscriber playing the controller (which verifies and acknowledges it);
* ``frame_p50_ms``: per-frame processing time (detect, embed, decide), from the unit's heartbeat;
* ``expected``: the probes the unit's engine recognises at the configured thresholds (computed in
  this process on the same frames); ``below_threshold`` lists the other genuine photos with their best
  score: the thresholds, not the pipeline, turn them away;
* ``mismatched``: check-ins (in order) naming someone other than the expected person;
* ``rss_mb`` / ``rss_peak_mb``: the unit's resident memory after the stream (VmRSS, VmHWM).
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from congress import mqtt, pki, wire
from congress.errors import CongressError

VENUE = "bench-venue"
UNIT = "bench-door"


class _Controller:
    """Verifies and acknowledges check-ins; records arrival times (monotonic) and heartbeats."""

    def __init__(self, ca: Path, port: int) -> None:
        cert, key = pki.issue_client(ca, "controller")
        self.keys = pki.unit_signing_keys(ca)
        self.signer = pki.load_signing_key(ca / "controller-signing.key")
        self.counter = wire.BootCounter()
        self.arrivals: dict[tuple, tuple[wire.CheckIn, float]] = {}
        self.statuses: list[wire.UnitStatus] = []
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self.client = mqtt.make_client(
            client_id="controller", ca_file=ca / "ca.pem", cert_file=cert, key_file=key
        )
        self.client.on_message = lambda c, u, m: self._q.put((m.topic, bytes(m.payload), time.monotonic()))
        mqtt.connect(self.client, "localhost", port)
        for kind in (wire.Kind.CHECKIN, wire.Kind.STATUS):
            self.client.subscribe(wire.subscription(VENUE, kind), qos=1)
        self.thread = threading.Thread(target=self._run, name="bench-controller", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                topic, payload, t = self._q.get(timeout=0.1)
            except queue.Empty:
                continue
            msg = wire.verify(payload, topic=topic, venue=VENUE, unit_keys=self.keys)
            if isinstance(msg, wire.UnitStatus):
                self.statuses.append(msg)
                continue
            self.arrivals.setdefault(msg.event_id, (msg, t))
            ack = wire.Ack(
                venue=VENUE,
                unit=msg.unit,
                boot=self.counter.boot,
                seq=self.counter.next(),
                events=(wire.AckedEvent(msg.boot, msg.seq),),
            )
            self.client.publish(ack.topic, wire.encode(ack, self.signer), qos=1)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.client.disconnect()
        self.client.loop_stop()


def _probes(images: Path, enroll_per_identity: int) -> tuple[dict[str, list[Path]], list[tuple[str, Path]]]:
    suffixes = {".jpg", ".jpeg", ".png"}
    enroll, rest = {}, {}
    for d in sorted(p for p in images.iterdir() if p.is_dir()):
        photos = sorted(p for p in d.iterdir() if p.suffix.lower() in suffixes)
        if len(photos) > enroll_per_identity:
            enroll[d.name], rest[d.name] = photos[:enroll_per_identity], photos[enroll_per_identity:]
    if len(enroll) < 2:
        raise CongressError(f"{images} needs at least two identity folders with two photos or more")
    # One identity after another, and at least three people between two photos of the same person: a
    # person who steps away for less than the tracker's gap (1 s) and back is still the same presence.
    order: list[tuple[str, Path]] = []
    while len([n for n in rest if rest[n]]) >= 3:
        for name in sorted(rest):
            if rest[name]:
                order.append((name, rest[name].pop(0)))
    return enroll, order


def _expected(analyzer, gallery, order, cfg) -> tuple[list[str], list[dict]]:
    """Who the unit should check in, in order: the probes its engine recognises at the configured
    thresholds on the frame the camera shows (frames of a photo are identical); the others, with their
    best score, are genuine photos that the thresholds turn away (not a fault of the pipeline)."""
    from congress.faces import decode_image
    from edge.camera.replay import letterbox

    r = cfg.recognition
    expected, below = [], []
    for name, photo in order:
        faces = analyzer.analyze(letterbox(decode_image(photo), (cfg.camera.width, cfg.camera.height)))
        matches = [gallery.search(f.embedding) for f in faces]
        if any(m.identity == name and m.score >= r.min_score and m.margin >= r.min_margin for m in matches):
            expected.append(name)
        else:
            best = max(matches, key=lambda m: m.score, default=None)
            below.append({"identity": name, "photo": photo.name, "faces": len(faces),
                          "best": best.identity if best else None,
                          "score": round(best.score, 4) if best else None,
                          "margin": round(best.margin, 4) if best else None})
    return expected, below


def _write_config(
    root: Path, ca: Path, port: int, playlist: Path, fps: float, models_dir: Path | str | None,
    min_score: float | None,
) -> Path:
    creds = pki.issue_unit(ca, UNIT)
    data = root / "unit"
    text = f"""[venue]
id = "{VENUE}"
[unit]
id = "{UNIT}"
data_dir = "{data}"
signing_key_file = "{creds.signing_key}"
controller_key_file = "{creds.controller_pub}"
[broker]
host = "localhost"
port = {port}
ca_file = "{creds.ca_cert}"
cert_file = "{creds.cert}"
key_file = "{creds.key}"
[door]
id = "bench"
liveness = false
[camera]
type = "replay"
path = "{playlist}"
fps = {fps}
[recognition]
debounce_s = 0.0
{f"min_score = {min_score}" if min_score is not None else ""}
{f'models_dir = "{Path(models_dir).resolve()}"' if models_dir else ""}
[feedback]
pin_factory = "mock"
[status]
heartbeat_s = 1.0
"""
    path = root / "unit.toml"
    path.write_text(text)
    return path


def _proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0])
    return out


def run_bench(
    images,
    *,
    enroll_per_identity: int = 1,
    hold_frames: int = 4,
    fps: float = 10.0,
    rounds: int = 1,
    models_dir: Path | str | None = None,
    min_score: float | None = None,
) -> dict:
    from congress.broker import Mosquitto
    from congress.config import load_config
    from congress.config.edge import EdgeConfig
    from congress.faces import decode_image
    from edge.camera.replay import letterbox
    from edge.engine import EngineAnalyzer
    from edge.gallery import GalleryIndex, GalleryStore

    images = Path(images)
    root = Path(tempfile.mkdtemp(prefix="congress-edge-bench-"))
    broker = ctl = proc = log = None
    try:
        ca = root / "ca"
        pki.init_ca(ca, VENUE)
        broker = Mosquitto.from_ca(ca, work_dir=root / "broker").start()
        enroll, order = _probes(images, enroll_per_identity)
        order = order * rounds
        playlist = root / "playlist.txt"
        playlist.write_text("".join(f"{p.resolve()} {hold_frames}\n" for _, p in order))
        unit_toml = _write_config(root, ca, broker.port, playlist, fps, models_dir, min_score)
        cfg = load_config(unit_toml, EdgeConfig)
        cfg.unit.data_dir.mkdir(parents=True)
        key = secrets.token_bytes(32)
        (cfg.unit.data_dir / "gallery.key").write_text(key.hex())
        analyzer = EngineAnalyzer.load(cfg.recognition.models_dir)
        ids, rows = [], []
        for name, photos in list(enroll.items()):
            for p in photos:
                faces = analyzer.analyze(letterbox(decode_image(p), (cfg.camera.width, cfg.camera.height)))
                if len(faces) != 1:  # a group photo or no face: not an enrollment photo
                    del enroll[name]
                    break
                ids.append(name)
                rows.append(faces[0].embedding)
        order = [(n, p) for n, p in order if n in enroll]
        playlist.write_text("".join(f"{p.resolve()} {hold_frames}\n" for _, p in order))
        GalleryStore(cfg.unit.data_dir, key, VENUE, UNIT, model=analyzer.engine.model).install_plain(
            1, ids, np.array(rows))
        expected, below = _expected(analyzer, GalleryIndex(1, tuple(ids), np.array(rows)), order, cfg)
        del analyzer
        ctl = _Controller(ca, broker.port)
        sock_path = root / "notify.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        sock.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=str(sock_path))
        log = open(root / "unit.log", "wb")  # noqa: SIM115
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "congress", "edge", "run", "--config", str(root / "unit.toml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        while b"READY=1" not in sock.recv(4096):
            pass
        ready_s = time.monotonic() - t0
        sock.close()
        stream_s = len(order) * hold_frames / fps
        deadline = time.monotonic() + stream_s * 3 + 30
        while len(ctl.arrivals) < len(expected) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(1.5)  # one more heartbeat with the final frame statistics
        mem = _proc_status(proc.pid)
        lat = [(t - m.mono_ms / 1000) * 1000 for m, t in ctl.arrivals.values()]
        got = [m.delegate_id for m, _ in sorted(ctl.arrivals.values(), key=lambda a: a[0].seq)]
        mismatched = (sum(a != b for a, b in zip(got, expected, strict=True))
                      if len(got) == len(expected) else None)
        beat = json.loads(ctl.statuses[-1].detail) if ctl.statuses else {}
        t_stop = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        return {
            "probes": len(order),
            "expected": len(expected),
            "below_threshold": below,
            "min_score": cfg.recognition.min_score,
            "checkins": len(ctl.arrivals),
            "mismatched": mismatched,
            "identities": len(enroll),
            "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat else None,
            "p99_ms": round(float(np.percentile(lat, 99)), 1) if lat else None,
            "frame_p50_ms": beat.get("ms", {}).get("frame_ms"),
            "fps_observed": beat.get("fps"),
            "rss_mb": round(mem.get("VmRSS", 0) / 1024, 1),
            "rss_peak_mb": round(mem.get("VmHWM", 0) / 1024, 1),
            "ready_s": round(ready_s, 2),
            "stop_s": round(time.monotonic() - t_stop, 2),
            "exit_code": code,
            "camera_fps": fps,
            "hold_frames": hold_frames,
        }
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if log is not None:
            log.close()
        if ctl is not None:
            ctl.close()
        if broker is not None:
            broker.close()
        shutil.rmtree(root, ignore_errors=True)
