"""Face embedders as plugins: one :class:`EmbedderSpec` per network, chosen by name.

Each embedder says which chip it was trained on (size and the five-point template that places the
face on it, see :mod:`congress.faces.align`), its model files (``int8`` and ``float``; ``precision``
is the one door units and enrollment run) and the size of its descriptor. Every model takes an RGB
uint8 chip (the float models take the same pixels as float32) and gives a descriptor that is
L2-normalised here, so the dot product of two embeddings is their cosine. Embeddings of different
embedders live in different spaces and are never compared: galleries record the embedder that made
them (``Gallery.model``, the sealed gallery's header) and a door unit refuses a gallery of another.

* ``sface`` (default): SFace (Zhong et al., OpenCV Zoo ``face_recognition_sface_2021dec``,
  Apache-2.0), 112×112 ArcFace-style chip, 128-d, float model at the door;
* ``dlib-resnet``: dlib's ResNet (``face_recognition_models``, CC0), 150×150 dlib chip, 128-d.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from congress.errors import ConfigError, ImageError
from congress.faces.runtime import load_interpreter


class EmbedderModel(enum.StrEnum):
    """Which conversion of an embedder to run (its precision)."""

    INT8 = "int8"
    FLOAT = "float"


@dataclass(frozen=True)
class EmbedderSpec:
    """One face-embedding network: its chip, files and descriptor size."""

    name: str
    chip_size: int
    dim: int
    files: dict[EmbedderModel, str]
    #: Five-point template (chip pixels) the landmarks are fitted to; see ``congress.faces.align``.
    template: str
    description: str
    #: The conversion door units and enrollment run unless told otherwise (docs/benchmarks.md: SFace's
    #: int8 model is slower than its float one under XNNPACK on x86 and less exact, dlib's is faster).
    precision: EmbedderModel = EmbedderModel.INT8


EMBEDDERS: dict[str, EmbedderSpec] = {
    "sface": EmbedderSpec(
        "sface", 112, 128,
        {EmbedderModel.INT8: "sface_int8.tflite", EmbedderModel.FLOAT: "sface_float.tflite"},
        "sface",
        "SFace (OpenCV Zoo face_recognition_sface_2021dec), 112x112 ArcFace-style chip",
        EmbedderModel.FLOAT,
    ),
    "dlib-resnet": EmbedderSpec(
        "dlib-resnet", 150, 128,
        {EmbedderModel.INT8: "dlib_resnet_int8.tflite", EmbedderModel.FLOAT: "dlib_resnet_float.tflite"},
        "dlib",
        "dlib ResNet face descriptor (face_recognition_models), 150x150 dlib chip",
    ),
}
#: The embedder door units and enrollment use unless configured otherwise (docs/benchmarks.md).
DEFAULT_EMBEDDER = "sface"
#: Descriptor size of every shipped embedder (all are 128-d; galleries check the size they hold).
EMBEDDING_SIZE = 128
#: Kept for callers of the dlib-only engine: file of each dlib conversion.
EMBEDDER_FILES = EMBEDDERS["dlib-resnet"].files


def embedder_spec(name: str) -> EmbedderSpec:
    """The spec of embedder ``name``; a ``ConfigError`` naming the choices otherwise."""
    try:
        return EMBEDDERS[name]
    except KeyError:
        raise ConfigError(f"unknown face embedder {name!r}",
                          hint=f"choose one of: {', '.join(sorted(EMBEDDERS))}") from None


class Embedder:
    """Runs one embedder model on chips; handles the int8 model's input and output quantization."""

    def __init__(self, content: bytes, model: EmbedderModel, *, threads: int | None = None,
                 spec: EmbedderSpec | None = None) -> None:
        self.model = model
        self.spec = spec or EMBEDDERS["dlib-resnet"]
        self.interpreter = load_interpreter(Path(self.spec.files[model]), threads, content)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def raw(self, chip: np.ndarray) -> np.ndarray:
        """The network's descriptor (not normalised) for one RGB chip."""
        chip = np.asarray(chip)
        size = self.spec.chip_size
        if chip.shape != (size, size, 3) or chip.dtype != np.uint8:
            raise ImageError(
                f"a {self.spec.name} face chip must be {size}x{size}x3 uint8, got {chip.shape} {chip.dtype}",
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
        """L2-normalised embedding of one RGB chip."""
        vector = self.raw(chip)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)
