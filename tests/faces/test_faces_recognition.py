"""Recognition on real photos: same people match, different people do not, alignment is invariant."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from congress.faces import Gallery, decode_image

#: Cosines splitting same from different people: LFW-dev pairs (dlib), celebs with margin (SFace).
THRESHOLDS = {"sface": 0.40, "dlib-resnet": 0.905}


@pytest.fixture(scope="module", params=["sface", "dlib-resnet"])
def celebs(request, faces_dir, group_engine, dlib_group_engine):
    engine = group_engine if request.param == "sface" else dlib_group_engine
    out = {}
    for folder in sorted((faces_dir / "celebs").glob("id*")):
        for path in sorted(folder.glob("*.jpg")):
            face = engine.central_face(decode_image(path))
            assert face is not None, path
            out[path] = (folder.name, face.embedding)
    return request.param, out


def test_same_people_match_different_people_do_not(celebs):
    model, celebs = celebs
    THRESHOLD = THRESHOLDS[model]
    same, different = [], []
    for (_, (a, ea)), (_, (b, eb)) in itertools.combinations(celebs.items(), 2):
        (same if a == b else different).append(float(ea @ eb))
    same, different = np.array(same), np.array(different)
    assert same.min() > THRESHOLD, same.min()
    assert np.mean(different >= THRESHOLD) < 0.02
    assert different.mean() < same.mean() - 0.1


def test_gallery_identifies_every_celebrity(celebs):
    model, celebs = celebs
    gallery = Gallery(threshold=THRESHOLDS[model], model=model)
    probes = []
    for identity, vector in celebs.values():
        if identity in gallery:
            probes.append((identity, vector))
        else:
            gallery.add(identity, vector)
    hits = [gallery.search(vector).identity == identity for identity, vector in probes]
    assert len(gallery) == 13 and np.mean(hits) >= 0.95


def _warp(image, angle, scale, shift):
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    matrix[:, 2] += shift
    size = (int(width * 1.5), int(height * 1.5))
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize(("model", "minimum"), [("sface", 0.85), ("dlib-resnet", 0.95)])
def test_position_scale_and_roll_do_not_change_the_embedding(faces_dir, group_engine, dlib_group_engine,
                                                            model, minimum):
    engine = group_engine if model == "sface" else dlib_group_engine
    image = decode_image(faces_dir / "celebs" / "id01" / "img1.jpg")
    reference = engine.faces(image, limit=1)[0].embedding
    cases = ((20, 1.0, (0, 0)), (-25, 0.6, (150, 80)), (0, 0.35, (300, 200)), (10, 1.3, (-50, 0)))
    for angle, scale, shift in cases:
        warped = _warp(image, angle, scale, shift)
        faces = engine.faces(warped, limit=1)
        assert faces, (angle, scale)
        assert float(faces[0].embedding @ reference) > minimum, (angle, scale, shift)


def test_chip_is_the_embedders_size(faces_dir, engine):
    image = decode_image(faces_dir / "single" / "astronaut.jpg")
    (det,) = engine.detect(image)
    chip = engine.align(image, det)
    assert engine.model == "sface" and engine.spec.chip_size == 112
    assert chip.shape == (112, 112, 3) and chip.dtype == np.uint8
    vector = engine.embed(chip)
    assert vector.shape == (128,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    mirrored = engine.embed(np.ascontiguousarray(chip[:, ::-1]))
    averaged = engine.embed(chip, flip=True)
    assert abs(float(np.linalg.norm(averaged)) - 1) < 1e-5
    expected = (vector + mirrored) / np.linalg.norm(vector + mirrored)
    assert float(averaged @ expected) > 0.9999 and float(averaged @ vector) < 0.99999
