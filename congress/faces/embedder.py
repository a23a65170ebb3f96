"""The face descriptor: dlib's ResNet as TFLite (int8 on the door unit, float for reference).

Input is a 150×150 RGB uint8 chip in dlib's template (see ``congress.faces.align``); output is the
128-d descriptor, L2-normalised so that the dot product of two embeddings is their cosine.
"""

from __future__ import annotations

import enum
from pathlib import Path

import numpy as np

from congress.errors import ImageError
from congress.faces.align import CHIP_SIZE
from congress.faces.runtime import load_interpreter

EMBEDDING_SIZE = 128


class EmbedderModel(enum.StrEnum):
    """Which conversion of dlib's ResNet to run."""

    INT8 = "int8"
    FLOAT = "float"


EMBEDDER_FILES = {
    EmbedderModel.INT8: "dlib_resnet_int8.tflite",
    EmbedderModel.FLOAT: "dlib_resnet_float.tflite",
}


class Embedder:
    """Runs one embedder model on chips; handles the int8 model's input and output quantization."""

    def __init__(self, content: bytes, model: EmbedderModel, *, threads: int | None = None) -> None:
        self.model = model
        self.interpreter = load_interpreter(Path(EMBEDDER_FILES[model]), threads, content)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def raw(self, chip: np.ndarray) -> np.ndarray:
        """dlib's descriptor (not normalised) for one RGB chip."""
        chip = np.asarray(chip)
        if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3) or chip.dtype != np.uint8:
            raise ImageError(
                f"a face chip must be {CHIP_SIZE}x{CHIP_SIZE}x3 uint8, got {chip.shape} {chip.dtype}",
                hint="cut chips with FaceEngine.align",
            )
        dtype = self.input["dtype"]
        if dtype == np.uint8:
            scale, zero = self.input["quantization"]
            tensor = chip if (scale, zero) == (1.0, 0) else np.clip(
                np.round(chip / scale + zero), 0, 255).astype(np.uint8)
        else:
            tensor = chip.astype(np.float32)
        self.interpreter.set_tensor(self.input["index"], tensor[None])
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self.output["index"])[0]
        if self.output["dtype"] != np.float32:
            scale, zero = self.output["quantization"]
            out = (out.astype(np.float32) - zero) * scale
        return out.astype(np.float32)

    def __call__(self, chip: np.ndarray) -> np.ndarray:
        """L2-normalised 128-d embedding of one RGB chip."""
        vector = self.raw(chip)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)
