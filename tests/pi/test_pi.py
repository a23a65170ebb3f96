"""``make test-pi``: the door unit on an emulated Raspberry Pi 4, installed as first boot installs it.

In a clean overlay of a cached Debian trixie arm64 root (qemu-user, ``QEMU_CPU=cortex-a72``, a Pi 4's
``/proc/cpuinfo``): ``congress flash`` writes a card with the unit's offline wheelhouse into the root's
``/boot/firmware``; ``firstboot.sh`` runs there as root with no network at all (timed); then

* the face analysis of the installed unit on the 65 real photos of ``celebs/`` is compared with this
  machine's (x86) run of the same code: same faces on every photo, boxes within ``BOX_PX`` pixels of
  the 640x480 frame, embeddings with cosine >= ``MIN_COSINE`` and, what the door decides on, every
  similarity score moved by at most ``MAX_SCORE_SHIFT``;
* the service's own command lines (``ExecStartPre``, ``ExecStart`` of the installed unit file) run as
  its user, in its working directory, with its credentials directory, a notify socket and gpiozero's
  mock pins, against a broker on this machine; its signed check-ins must be x86's decisions on the
  same stream for every photo whose x86 score is clearly away from the thresholds (``SCORE_BAND``);
  photos inside the band are reported, not failed.

Figures go to ``$CACHE/report.json`` (and docs/edge.md by hand). Emulation says nothing about speed,
the camera or real GPIO.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge.bench import VENUE as BENCH_VENUE

from .piroot import REPO, PiRoot, base_root

pytestmark = pytest.mark.skipif(os.environ.get("CONGRESS_TEST_PI") != "1",
                                reason="emulated arm64 Raspberry Pi OS: run with make test-pi")

FACES = (REPO / ".." / "shared" / "data" / "faces").resolve()
CACHE = Path(os.environ.get("CONGRESS_PI_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "digital-congress" / "pi")
BOX_PX = 2.0
# Parity tolerances for SFace (docs/edge.md, "Tolerances"). Embeddings are unit vectors and the door's score
# is the cosine s = g.e to a gallery template g (enrolled on x86). arm64's e' in place of x86's e moves it
# by g.(e' - e), so |ds| <= |e' - e| = sqrt(2 (1 - c)) for their cosine c. The door accepts at s >= 0.56
# with a margin >= 0.08 over the runner-up in each of 3 frames (attendant from 0.46): a shift must stay
# well inside the 0.08 margin, say half of it, 0.04. From the cosine alone that needs c >= 0.9992, which
# SFace (0.990 measured: bound 0.141) cannot give and dlib's ResNet barely did (0.9988: bound 0.049), so
# the cosine is a coarse floor only (0.985: bound 0.173, far from any real gap; a broken kernel or a wrong
# model is far below it) and the shift itself is measured: every arm64 face against every x86 face of the
# photos as a template (the gallery's templates are among them), at most MAX_SCORE_SHIFT (0.027 measured).
MIN_COSINE = 0.985
MAX_SCORE_SHIFT = 0.04
# The service check compares decisions for photos whose x86 score is more than SCORE_BAND from min_score
# (and margin more than 2 * SCORE_BAND from min_margin: both scores of a margin move): there no shift the
# parity test allows can turn the decision. Photos inside the band are reported with their scores.
SCORE_BAND = MAX_SCORE_SHIFT
# Each photo is shown for HOLD frames at FPS of frame time, three other people between two photos of one
# person (edge.bench._probes): the gap, (3 * HOLD + 1) / FPS, must exceed the tracker's 1 s
# (edge.recognition), or the person's returning photo continues the same presence and is no new check-in
# (at 10 fps the gap is exactly 1.0 s: an x86 unit then makes 42 check-ins, not x86's single-frame 43).
HOLD, FPS, TRACK_GAP_S = 3, 7.5, 1.0
# The venue of edge.bench's controller stand-in (it verifies and acknowledges check-ins of that venue).
VENUE, UNIT = BENCH_VENUE, "door-pi"
QUIET_S = 180  # no new check-in for this long (emulated frames take about a second): the stream is over
REPORT: dict = {}


def unit_file(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key}", []).append(value)
    return out


def unit_config(port: int) -> str:
    return f"""[venue]
id = "{VENUE}"
[unit]
id = "{UNIT}"
signing_key_file = "keys/signing.key"
[broker]
host = "localhost"
port = {port}
ca_file = "ca.pem"
cert_file = "unit.pem"
key_file = "unit.key"
[door]
id = "pi"
liveness = false
[camera]
type = "replay"
path = "/srv/probe/playlist.txt"
fps = {FPS}
hold_frames = {HOLD}
[recognition]
debounce_s = 0.0
[feedback]
pin_factory = "mock"
[status]
heartbeat_s = 2.0
"""


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    from congress import pki
    from congress.broker import Mosquitto

    if not FACES.is_dir():
        pytest.skip(f"face photos not found at {FACES}")
    root = tmp_path_factory.mktemp("venue")
    ca = root / "ca"
    pki.init_ca(ca, VENUE)
    with Mosquitto.from_ca(ca, work_dir=root / "broker") as broker:
        yield ca, broker


@pytest.fixture(scope="module")
def pi(tmp_path_factory, venue):
    from congress.cli import main
    from flash import wheelhouse
    from tests.ship.images import TRIXIE_BOOT

    ca, broker = venue
    base = base_root()
    t0 = time.monotonic()
    wheels = wheelhouse.build(CACHE / "wheelhouse-trixie", release="trixie")
    REPORT["wheelhouse"] = {"wheels": len(wheels["wheels"]), "mb": round(wheels["bytes"] / 1e6, 1),
                            "built_from_source": wheels["built_from_source"],
                            "seconds": round(time.monotonic() - t0, 1)}
    work = tmp_path_factory.mktemp("pi")
    with PiRoot(base, work, binds={"/srv/faces": FACES}) as root:
        boot = root.inside("/boot/firmware")
        for name, data in TRIXIE_BOOT.items():
            (boot / name).parent.mkdir(parents=True, exist_ok=True)
            (boot / name).write_bytes(data)
        cfg = work / "door-pi.toml"
        cfg.write_text(unit_config(broker.port))
        code = main(["flash", "--boot-dir", str(boot), "--unit", UNIT, "--config", str(cfg), "--ca-dir",
                     str(ca), "--issue", "--wheelhouse", str(CACHE / "wheelhouse-trixie"), "--json"])
        assert code == 0
        probe = root.inside("/srv/probe")
        probe.mkdir(parents=True)
        probe.chmod(0o777)
        shutil.copy(Path(__file__).with_name("face_probe.py"), probe / "face_probe.py")
        yield root
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "report.json").write_text(json.dumps(REPORT, indent=2, sort_keys=True))
    print("\ntest-pi figures:", json.dumps(REPORT, sort_keys=True), file=sys.__stderr__)


@pytest.fixture(scope="module")
def installed(pi):
    """First boot, as cloud-init runs it, with no network at all; returns its output and duration."""
    t0 = time.monotonic()
    proc = pi.run(["sh", "/boot/firmware/congress/firstboot.sh"], network=False, timeout=3600)
    REPORT["install_s"] = round(time.monotonic() - t0, 1)
    return pi, proc


def test_first_boot_installs_the_unit_offline(installed):
    pi, proc = installed
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "installing the software from the card's wheels (offline)" in proc.stderr
    assert not pi.inside("/boot/firmware/congress/keys").exists()
    numpy = pi.run(["/opt/congress/venv/bin/python", "-c",
                    "import numpy; print(numpy.__version__, numpy.__file__)"])
    assert numpy.returncode == 0, numpy.stderr
    version, where = numpy.stdout.split()
    assert where.startswith("/usr/lib/python3/dist-packages/"), "numpy must be Debian's (picamera2 uses it)"
    REPORT["numpy"] = version
    again = pi.run(["sh", "/boot/firmware/congress/firstboot.sh"], network=False)
    assert again.returncode == 0 and "nothing to do" in again.stderr, again.stderr[-2000:]


def _service(pi) -> dict:
    o = unit_file(pi.inside("/etc/systemd/system/congress-edge.service"))
    creds = pi.inside("/run/credentials/congress-edge.service")
    uid, gid = pi.ids(o["Service.User"][0])
    creds.mkdir(parents=True, exist_ok=True)
    for item in o.get("Service.LoadCredential", []):
        name, _, src = item.partition(":")
        shutil.copy(pi.inside(src), creds / name)
        os.chown(creds / name, uid, gid)
        (creds / name).chmod(0o400)
    os.chown(creds, uid, gid)
    creds.chmod(0o500)
    env = {"CREDENTIALS_DIRECTORY": "/run/credentials/congress-edge.service"}
    for item in o.get("Service.Environment", []):
        for pair in shlex.split(item):
            k, _, v = pair.partition("=")
            env[k] = v
    return {"user": o["Service.User"][0], "groups": o.get("Service.SupplementaryGroups", [""])[0].split(),
            "cwd": o["Service.WorkingDirectory"][0], "env": env,
            "pre": shlex.split(o["Service.ExecStartPre"][0]), "start": shlex.split(o["Service.ExecStart"][0]),
            "watchdog_s": int(o["Service.WatchdogSec"][0])}


def _analyse_here(photos: Path, out: Path) -> dict:
    probe = Path(__file__).with_name("face_probe.py")
    proc = subprocess.run([sys.executable, str(probe), str(photos), str(out)], capture_output=True, text=True,
                          timeout=1800, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_faces_match_the_x86_run(installed, tmp_path):
    pi, first_boot = installed
    assert first_boot.returncode == 0
    svc = _service(pi)
    t0 = time.monotonic()
    proc = pi.run(["/opt/congress/venv/bin/python", "/srv/probe/face_probe.py", "/srv/faces/celebs",
                   "/srv/probe/arm64.json", "/opt/congress/models"],
                  user=svc["user"], groups=svc["groups"], cwd=svc["cwd"], timeout=3600)
    arm_s = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-4000:]
    arm = json.loads(pi.inside("/srv/probe/arm64.json").read_text())
    x86 = _analyse_here(FACES / "celebs", tmp_path / "x86.json")
    assert "ASIMDDP" not in arm["runtime"]["cpu_features"] and "SVE" not in arm["runtime"]["cpu_features"], (
        "the emulated CPU must be a Cortex-A72 (no dot product, no SVE)")
    assert arm["photos"].keys() == x86["photos"].keys()
    worst_px, worst_cos, faces, differ = 0.0, 1.0, 0, []
    templates = np.array([f["embedding"] for here in x86["photos"].values() for f in here])
    shifts = []
    for name, here in x86["photos"].items():
        there = arm["photos"][name]
        if len(here) != len(there):
            differ.append(f"{name}: {len(here)} faces on x86, {len(there)} on arm64")
            continue
        for f in here:
            g = max(there, key=lambda g, f=f: _iou(f["box"], g["box"]))
            worst_px = max(worst_px, float(np.max(np.abs(np.subtract(f["box"], g["box"])))))
            worst_cos = min(worst_cos, float(np.dot(f["embedding"], g["embedding"])))
            shifts.append(float(np.max(np.abs(templates @ np.subtract(g["embedding"], f["embedding"])))))
            faces += 1
    REPORT["parity"] = {
        "photos": len(x86["photos"]), "photos_same_faces": len(x86["photos"]) - len(differ), "faces": faces,
        "box_max_px": round(worst_px, 2), "cosine_min": round(worst_cos, 5),
        "cosine_bound_on_score_shift": round(float(np.sqrt(2 * (1 - worst_cos))), 4),
        "score_shift_max": round(max(shifts, default=0.0), 4),
        "score_shift_median": round(float(np.median(shifts)) if shifts else 0.0, 4),
        "tolerance": {"box_px": BOX_PX, "cosine": MIN_COSINE, "score_shift": MAX_SCORE_SHIFT},
        "arm64": arm["runtime"], "x86": x86["runtime"], "arm64_analyse_s": arm["analyse_s"],
        "arm64_load_s": arm["load_s"], "arm64_wall_s": round(arm_s, 1), "x86_analyse_s": x86["analyse_s"],
    }
    assert not differ, differ
    assert worst_px <= BOX_PX and worst_cos >= MIN_COSINE, REPORT["parity"]
    assert max(shifts, default=0.0) <= MAX_SCORE_SHIFT, REPORT["parity"]


class _NotifySocket:
    """The service's $NOTIFY_SOCKET, bound inside the root; records every datagram with its time."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        path.chmod(0o777)
        self.sock.settimeout(0.5)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="notify-socket", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def seen(self, word: str) -> int:
        return sum(word in m for _, m in self.messages)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


def _enroll_and_playlist(pi, hold: int) -> tuple[list[str], np.ndarray, list[dict]]:
    """The x86 engine enrolls the first photo of each person (the controller's job); the rest is shown.

    Returns the gallery and, for every photo in the order shown, what an x86 unit decides on its frame
    at the thresholds of the unit's configuration (the frames of a photo are identical and each photo is
    a presence of its own): ``x86`` (checked in), the score and margin of the person's own best match
    (else the best), and ``band``: within ``SCORE_BAND`` of the thresholds, where arm64 may differ.
    """
    from congress.config import parse_config, read_toml
    from congress.config.edge import EdgeConfig
    from congress.faces import decode_image
    from edge.bench import _probes
    from edge.camera.replay import letterbox
    from edge.engine import EngineAnalyzer
    from edge.gallery import GalleryIndex

    enroll, order = _probes(FACES / "celebs", 1)
    analyzer = EngineAnalyzer.load()
    ids, rows = [], []
    for name, photos in list(enroll.items()):
        faces = analyzer.analyze(letterbox(decode_image(photos[0]), (640, 480)))
        if len(faces) != 1:
            del enroll[name]
            continue
        ids.append(name)
        rows.append(faces[0].embedding)
    order = [(n, p) for n, p in order if n in enroll]
    text = "".join(f"/srv/faces/{p.relative_to(FACES)} {hold}\n" for _, p in order)
    pi.inside("/srv/probe/playlist.txt").write_text(text)
    emb = np.array(rows, dtype=np.float32)
    r = parse_config(read_toml(pi.inside("/etc/congress/edge.toml")), EdgeConfig).recognition
    gallery = GalleryIndex(1, tuple(ids), emb)
    shown = []
    for name, photo in order:
        matches = [gallery.search(f.embedding)
                   for f in analyzer.analyze(letterbox(decode_image(photo), (640, 480)))]
        own = [m for m in matches if m.identity == name]
        m = max(own or matches, key=lambda m: m.score, default=None)
        best = max(matches, key=lambda m: m.score, default=None)
        band = m is not None and (abs(m.score - r.min_score) <= SCORE_BAND
                                  or abs(m.margin - r.min_margin) <= 2 * SCORE_BAND)
        if best is not None and best.identity != name and best.score >= r.min_score - SCORE_BAND:
            band = True  # someone else's template comes near the threshold: report it
        shown.append({"photo": f"{name}/{photo.name}", "identity": name, "faces": len(matches),
                      "x86": any(m.identity == name and m.score >= r.min_score and m.margin >= r.min_margin
                                 for m in matches),
                      "score": round(m.score, 4) if m else None, "margin": round(m.margin, 4) if m else None,
                      "band": band})
    REPORT["service_thresholds"] = {"min_score": r.min_score, "min_margin": r.min_margin,
                                    "score_band": SCORE_BAND, "margin_band": 2 * SCORE_BAND}
    return ids, emb, shown


def _compare_decisions(got: list[str], shown: list[dict]) -> tuple[list[str], list[dict]]:
    """Walk arm64's check-ins (in order) along the photos: a photo clearly above the thresholds on x86
    must be the next check-in, one clearly below must not be, one in the band may be either. Returns
    what differs and the band's photos with arm64's decision."""
    j, differ, band = 0, [], []
    for p in shown:
        here = j < len(got) and got[j] == p["identity"]
        j += here
        if p["band"]:
            band.append({**p, "arm64": here})
        elif p["x86"] and not here:
            differ.append(f"{p['photo']} (x86 score {p['score']}, margin {p['margin']}): "
                          "checked in on x86, not on arm64")
        elif here and not p["x86"]:
            differ.append(f"{p['photo']} (x86 score {p['score']}, margin {p['margin']}): "
                          "checked in on arm64, not on x86")
    differ += [f"check-in of {d} on arm64 after the last photo's" for d in got[j:]]
    return differ, band


def test_service_runs_as_its_user_and_checks_delegates_in(installed, venue, tmp_path):
    from edge.bench import _Controller
    from edge.gallery import GalleryStore

    pi, first_boot = installed
    assert first_boot.returncode == 0
    ca, broker = venue
    svc = _service(pi)
    assert svc["cwd"] == "/var/lib/congress-edge"
    assert (3 * HOLD + 1) / FPS > TRACK_GAP_S, "each photo must be a presence of its own"
    ids, rows, shown = _enroll_and_playlist(pi, hold=HOLD)
    x86_in = sum(p["x86"] for p in shown)
    state = pi.inside(svc["cwd"])
    key = bytes.fromhex(pi.inside("/var/lib/congress-edge/keys/gallery-key").read_text().strip())
    GalleryStore(state, key, VENUE, UNIT).install_plain(1, ids, rows)
    uid, gid = pi.ids(svc["user"])
    for p in state.glob("gallery*"):
        os.chown(p, uid, gid)
    check = pi.run(svc["pre"], user=svc["user"], groups=svc["groups"], cwd=svc["cwd"], env=svc["env"])
    assert check.returncode == 0, check.stdout + check.stderr
    notify = _NotifySocket(pi.inside("/run/notify.sock"))
    ctl = _Controller(ca, broker.port)
    env = {**svc["env"], "NOTIFY_SOCKET": "/run/notify.sock",
           "WATCHDOG_USEC": str(svc["watchdog_s"] * 1_000_000)}
    log = tmp_path / "unit.log"
    t0 = time.monotonic()
    proc = pi.popen(svc["start"], log=log, user=svc["user"], groups=svc["groups"], cwd=svc["cwd"], env=env)
    try:
        deadline = t0 + 1800
        while not notify.seen("READY=1"):
            assert proc.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, "no READY=1\n" + log.read_text()[-4000:]
            time.sleep(0.5)
        ready_s = time.monotonic() - t0
        t_stream = time.monotonic()
        last = (0, time.monotonic())  # a different decision than x86's: stop once arrivals stay still
        while len(ctl.arrivals) < x86_in and time.monotonic() < deadline and proc.poll() is None:
            if len(ctl.arrivals) != last[0]:
                last = (len(ctl.arrivals), time.monotonic())
            elif time.monotonic() - last[1] > QUIET_S:
                break
            time.sleep(1)
        stream_s = time.monotonic() - t_stream
        time.sleep(5)  # the next heartbeat
        got = [m.delegate_id for m, _ in sorted(ctl.arrivals.values(), key=lambda a: a[0].seq)]
        beat = json.loads(ctl.statuses[-1].detail) if ctl.statuses else {}
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ctl.close()
        notify.close()
    differ, band = _compare_decisions(got, shown)
    REPORT["service"] = {
        "ready_s": round(ready_s, 1), "photos": len(shown), "checkins": len(got), "checkins_x86": x86_in,
        "clearly_above": sum(p["x86"] and not p["band"] for p in shown),
        "clearly_below": sum(not p["x86"] and not p["band"] for p in shown),
        "band": band, "differ": differ, "hold_frames": HOLD, "fps": FPS,
        "stream_s": round(stream_s, 1), "frame_ms": beat.get("ms", {}).get("frame_ms"),
        "watchdog_pings": notify.seen("WATCHDOG=1"), "exit_code": code,
    }
    assert code == 0, log.read_text()[-4000:]
    assert notify.seen("WATCHDOG=1") > 0
    lines = [f"  {p['photo']}: {p['score']}, {p['margin']}; {p['x86']} / {p['arm64']}" for p in band]
    print("\nphotos within the band of the thresholds (x86 score, margin; checked in on x86 / arm64):",
          *lines, sep="\n", file=sys.__stderr__)
    assert not differ, (REPORT["service"], log.read_text()[-3000:])
