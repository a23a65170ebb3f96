"""Detection on real photos: every face in multi/ and single/, none in no_face/; keypoints and mesh."""

from __future__ import annotations

import numpy as np
import pytest

from congress.faces import Keypoint, decode_image

#: Faces counted by eye in each group photo (faces with both eyes inside the frame).
#: selfie_many.jpg shows seven people: five with both eyes in the frame, two cut by its edge.
MULTI = {
    "couple.jpg": 2,
    "group_6.jpg": 6,
    "obama_and_biden.jpg": 3,
    "selfie_many.jpg": 5,
    "two_people.jpg": 2,
}


@pytest.mark.parametrize(("name", "count"), sorted(MULTI.items()))
def test_group_photos_every_face(faces_dir, group_engine, name, count):
    detections = group_engine.detect(decode_image(faces_dir / "multi" / name))
    assert len(detections) == count, [round(d.score, 2) for d in detections]


@pytest.mark.parametrize("detector", ["short", "group"])
def test_single_photos_one_face(faces_dir, engine, group_engine, detector):
    chosen = engine if detector == "short" else group_engine
    for path in sorted((faces_dir / "single").glob("*.jpg")):
        detections = chosen.detect(decode_image(path))
        assert len(detections) == 1, (path.name, [d.score for d in detections])


@pytest.mark.parametrize("detector", ["short", "group"])
def test_no_face_photos(faces_dir, engine, group_engine, detector):
    chosen = engine if detector == "short" else group_engine
    for path in sorted((faces_dir / "no_face").glob("*.jpg")):
        assert chosen.detect(decode_image(path)) == [], path.name


def test_keypoints_sit_on_the_face(faces_dir, engine):
    image = decode_image(faces_dir / "single" / "obama_1080p.jpg")
    (det,) = engine.detect(image)
    x0, y0, x1, y1 = det.box
    points = det.keypoints
    inside_x = (points[:4, 0] > x0) & (points[:4, 0] < x1)
    assert np.all(inside_x & (points[:4, 1] > y0) & (points[:4, 1] < y1))
    # The person's right eye appears on the left of the image, and the eyes are above the mouth.
    assert points[Keypoint.RIGHT_EYE, 0] < points[Keypoint.LEFT_EYE, 0]
    assert points[Keypoint.MOUTH, 1] > points[Keypoint.RIGHT_EYE, 1]


def test_any_frame_size(faces_dir, engine, group_engine):
    image = decode_image(faces_dir / "single" / "obama_240p.jpg")
    (reference,) = engine.detect(image)
    # A portrait (tall) frame made by padding: the same face at the same place.
    tall = np.zeros((image.shape[0] * 3 // 2, image.shape[1], 3), dtype=np.uint8)
    tall[: image.shape[0]] = image
    (det,) = engine.detect(tall)
    assert np.allclose(det.box, reference.box, atol=0.1 * reference.width)
    assert engine.detect(np.zeros((1, 1, 3), dtype=np.uint8)) == []
    assert group_engine.detect(np.zeros((40, 3000, 3), dtype=np.uint8)) == []


def test_blink_landmarks(faces_dir, engine):
    ratios = {}
    for name in ("open", "closed"):
        image = decode_image(faces_dir / "eyes" / f"{name}.jpg")
        (det,) = engine.detect(image)
        engine.align(image, det)  # mesh alignment computes the mesh once; liveness reuses it
        mesh = engine.landmarks(image, det)
        assert mesh is det.mesh
        assert mesh.points.shape == (468, 3) and mesh.score > 0.5
        ratios[name] = mesh.eye_aspect_ratio()
    # This mesh model does not shut the lids fully: a blink shows as a drop against the person's own
    # open-eye ratio (about 13 % here), not as a fixed absolute value.
    assert ratios["closed"] < 0.92 * ratios["open"], ratios
