"""Run the door unit's face analysis on every photo of a folder and write what it found as JSON.

Runs with nothing but the installed project (on the emulated Pi, and on this machine for the
comparison): each photo is letterboxed to the 640x480 frame the unit's camera delivers, as the replay
camera does, and analysed by the unit's own analyser (``edge.engine.EngineAnalyzer``).

    python face_probe.py PHOTOS_DIR OUT.json [MODELS_DIR]
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

SUFFIXES = {".jpg", ".jpeg", ".png"}


def runtime() -> dict:
    import cv2
    import numpy as np

    info = {"machine": platform.machine(), "python": platform.python_version(), "numpy": np.__version__,
            "numpy_file": np.__file__, "opencv": cv2.__version__}
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    info["cpu_features"] = sorted(k for k, v in __cpu_features__.items() if v)
    try:
        from importlib.metadata import version

        info["ai_edge_litert"] = version("ai-edge-litert")
    except Exception:
        info["ai_edge_litert"] = None
    return info


def main(photos: Path, out: Path, models: Path | None) -> None:
    from congress.faces import decode_image
    from edge.camera.replay import letterbox
    from edge.engine import EngineAnalyzer

    t0 = time.monotonic()
    analyzer = EngineAnalyzer.load(models)
    load_s = time.monotonic() - t0
    results = {}
    t1 = time.monotonic()
    for p in sorted(q for q in photos.rglob("*") if q.suffix.lower() in SUFFIXES):
        frame = letterbox(decode_image(p), (640, 480))
        results[str(p.relative_to(photos))] = [
            {"box": [round(float(v), 3) for v in f.box], "score": round(float(f.score), 5),
             "embedding": [float(v) for v in f.embedding]}
            for f in analyzer.analyze(frame)
        ]
    out.write_text(json.dumps({"runtime": runtime(), "load_s": round(load_s, 2),
                               "analyse_s": round(time.monotonic() - t1, 2), "photos": results}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
