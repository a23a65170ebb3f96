"""Camera sources: the replay instrument, OpenCV files, and a clear error for a missing Pi camera."""

from __future__ import annotations

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
