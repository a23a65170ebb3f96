"""Camera sources: the replay instrument, OpenCV files, and a clear error for a missing Pi camera."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from congress.config.edge import OpenCVCamera as OpenCVSettings
from congress.config.edge import Picamera2Camera as PiSettings
from congress.config.edge import ReplayCamera as ReplaySettings
from congress.errors import DeviceError
from edge.camera import open_camera
from edge.camera.replay import ReplayCamera


def test_replay_folder_holds_each_image_and_records(faces_dir):
    cam = open_camera(
        ReplaySettings(type="replay", path=faces_dir / "single", hold_frames=2, fps=5), realtime=False
    )
    frames = []
    while (f := cam.read()) is not None:
        frames.append(f)
    cam.close()
    names = sorted(p.name for p in (faces_dir / "single").iterdir())
    assert len(frames) == 2 * len(names)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert frames[3].t == pytest.approx(3 / 5)
    assert [s.rsplit("/", 1)[1] for s in list(cam.served)[::2]] == names
    assert {f.image.shape for f in frames} == {(480, 640, 3)}  # letterboxed to the camera size


def test_replay_playlist_with_hold_counts_and_loop(tmp_path, faces_dir):
    pl = tmp_path / "list.txt"
    pl.write_text(f"# blink\n{faces_dir}/eyes/open.jpg 2\n{faces_dir}/eyes/closed.jpg\n")
    cam = ReplayCamera.from_path(pl, hold_frames=1, loop=True)
    cam.open()
    served = [cam.read().source.rsplit("/", 1)[1] for _ in range(6)]
    assert served == ["open.jpg", "open.jpg", "closed.jpg"] * 2


def test_replay_bad_paths_are_named(tmp_path):
    with pytest.raises(DeviceError, match="does not exist"):
        ReplayCamera.from_path(tmp_path / "nope")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    cam = ReplayCamera.from_path(tmp_path)
    with pytest.raises(DeviceError, match=r"bad\.jpg cannot be read"):
        cam.open()


def test_opencv_reads_a_video_file_to_the_end(tmp_path, faces_dir):
    import cv2

    img = cv2.resize(cv2.imread(str(faces_dir / "single" / "obama_240p.jpg")), (320, 240))
    h, w = img.shape[:2]
    path = tmp_path / "door.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    for _ in range(7):
        out.write(img)
    out.release()
    cam = open_camera(OpenCVSettings(type="opencv", source=str(path)))
    n = 0
    while (f := cam.read()) is not None:
        assert f.image.shape[:2] == (h, w)
        n += 1
    cam.close()
    assert n == 7


def test_opencv_missing_file_fails_loudly(tmp_path):
    with pytest.raises(DeviceError, match="cannot be opened"):
        open_camera(OpenCVSettings(type="opencv", source=str(tmp_path / "none.mp4")))


def test_picamera2_off_a_pi_says_what_to_do():
    pytest.importorskip("cv2")
    try:
        import picamera2  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - on a real Pi
        pytest.skip("picamera2 is installed here")
    with pytest.raises(DeviceError, match="picamera2 is not available") as exc:
        open_camera(PiSettings(type="picamera2"))
    assert "python3-picamera2" in str(exc.value)


@pytest.fixture
def fake_picamera2(monkeypatch):
    import fake_picamera2

    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    fake_picamera2.Picamera2.instances.clear()
    return fake_picamera2.Picamera2


def test_picamera2_frames_are_in_opencv_order_and_faces_are_found(fake_picamera2, faces_dir):
    import cv2

    from congress.faces import decode_image
    from edge.camera.replay import letterbox
    from edge.engine import EngineAnalyzer

    bgr = letterbox(decode_image(faces_dir / "single" / "obama_1080p.jpg"), (640, 480))
    fake_picamera2.scene = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # what the sensor sees
    cam = open_camera(PiSettings(type="picamera2", width=640, height=480, fps=10))
    try:
        frame = cam.read()
    finally:
        cam.close()
    assert frame.image.shape == (480, 640, 3) and frame.image.flags["C_CONTIGUOUS"]
    assert np.array_equal(frame.image, bgr), "the frame must be B, G, R like cv2.imread"
    analyzer = EngineAnalyzer.load()
    (face,) = analyzer.analyze(frame.image)
    (reference,) = analyzer.analyze(bgr)
    assert float(np.dot(face.embedding, reference.embedding)) > 0.999


def test_picamera2_built_for_another_numpy_says_how_to_fix_it(monkeypatch, tmp_path):
    pkg = tmp_path / "picamera2"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        'raise ValueError("numpy.dtype size changed, may indicate binary incompatibility. '
        'Expected 96 from C header, got 88 from PyObject")\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    with pytest.raises(DeviceError, match="picamera2 cannot load with this numpy") as exc:
        open_camera(PiSettings(type="picamera2"))
    assert "pip uninstall numpy" in exc.value.hint and "python3-numpy" in exc.value.hint
