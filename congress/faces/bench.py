"""Speed of the face pipeline, stage by stage, and of the dlib reference on the same images.

Each image is read into memory first; the timed path is what a door unit does per frame: decode the
JPEG, detect, align and embed the largest face, and search a gallery of ``gallery_size`` identities.
The gallery holds the embeddings of the benchmark images themselves, topped up with random unit
vectors (search cost depends only on the gallery's size). The first few images warm the models up
and are not counted.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from congress.faces.engine import FaceEngine
from congress.faces.gallery import Gallery
from congress.faces.imageio import decode_image

STAGES = ("decode", "detect", "align", "embed", "search", "end_to_end")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
WARMUP = 3


def list_images(folder: Path, limit: int | None = None) -> list[Path]:
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return paths[:limit] if limit else paths


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return round(pages * resource.getpagesize() / 2**20, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def make_gallery(seeds: list[np.ndarray], size: int, seed: int = 7, dim: int = 128) -> Gallery:
    gallery = Gallery(dim=dim)
    for index, vector in enumerate(seeds[:size]):
        gallery.add(f"person-{index:05d}", vector)
    rng = np.random.default_rng(seed)
    for index in range(len(gallery), size):
        gallery.add(f"person-{index:05d}", rng.standard_normal(dim).astype(np.float32))
    return gallery


def summarise(timings: dict[str, list[float]]) -> dict:
    out = {}
    for stage, values in timings.items():
        values = np.array(values[WARMUP:] if len(values) > WARMUP else values)
        if values.size:
            out[stage] = {"p50_ms": round(float(np.percentile(values, 50)), 2),
                          "p95_ms": round(float(np.percentile(values, 95)), 2)}
    return out


def _run(images: list[bytes], step: Callable[[np.ndarray, dict], None]) -> tuple[dict, int]:
    timings: dict[str, list[float]] = {s: [] for s in STAGES}
    no_face = 0
    for data in images:
        marks = {}
        start = time.perf_counter()
        bgr = decode_image(data)
        marks["decode"] = time.perf_counter()
        found = step(bgr, marks)
        end = time.perf_counter()
        no_face += not found
        previous = start
        for stage in STAGES[:-1]:
            if stage in marks:
                timings[stage].append((marks[stage] - previous) * 1000)
                previous = marks[stage]
        timings["end_to_end"].append((end - start) * 1000)
    return summarise(timings), no_face


def bench_engine(engine: FaceEngine, images: list[bytes], gallery: Gallery) -> dict:
    """Per-stage timings of our pipeline (largest face per image)."""

    def step(bgr: np.ndarray, marks: dict) -> bool:
        detections = engine.detect(bgr)
        marks["detect"] = time.perf_counter()
        if not detections:
            return False
        det = max(detections, key=lambda d: d.width)
        chip = engine.align(bgr, det)
        marks["align"] = time.perf_counter()
        vector = engine.embed(chip)
        marks["embed"] = time.perf_counter()
        gallery.search(vector)
        marks["search"] = time.perf_counter()
        return True

    stages, no_face = _run(images, step)
    return {"stages": stages, "no_face": no_face, **stages["end_to_end"]}


def bench_reference(pipeline, images: list[bytes], gallery: Gallery) -> dict:
    """The same timings for the dlib reference (``congress.faces.reference.DlibPipeline``)."""

    def step(bgr: np.ndarray, marks: dict) -> bool:
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        rects = pipeline.detector(rgb, pipeline.upsample)
        marks["detect"] = time.perf_counter()
        if not rects:
            return False
        rect = max(rects, key=lambda r: r.area())
        chip = pipeline.chip(bgr, pipeline.predictor(rgb, rect))
        marks["align"] = time.perf_counter()
        vector = pipeline.descriptor(chip)
        marks["embed"] = time.perf_counter()
        gallery.search(vector)
        marks["search"] = time.perf_counter()
        return True

    stages, no_face = _run(images, step)
    return {"stages": stages, "no_face": no_face, **stages["end_to_end"]}


def read_all(paths: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in paths]
