"""TFLite interpreter loading: LiteRT (``ai-edge-litert``) first, ``tflite-runtime`` as a fallback.

tflite-runtime 2.14 cannot load under NumPy 2, so it is only tried when LiteRT is not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

from congress.errors import ModelError


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError as exc:
            raise ModelError(
                "no TFLite runtime is installed",
                hint="pip install ai-edge-litert (or tflite-runtime on 32-bit ARM)",
            ) from exc
    return Interpreter


def load_interpreter(path: Path, threads: int | None = None, content: bytes | None = None):
    """An allocated interpreter for a ``.tflite`` file (or its ``content``), ``threads`` CPU threads."""
    interpreter_class = _interpreter_class()
    threads = threads or min(4, os.cpu_count() or 1)
    try:
        if content is not None:
            interpreter = interpreter_class(model_content=content, num_threads=threads)
        else:
            interpreter = interpreter_class(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(
            f"cannot load model {Path(path).name}: {exc}", hint="rebuild: python -m models.builder"
        ) from exc
    return interpreter
