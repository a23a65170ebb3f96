"""The face engine shared by the door unit and enrollment.

``FaceEngine`` (BlazeFace detection, alignment onto dlib's chip template, dlib's ResNet descriptor as
int8 TFLite), ``Gallery`` (1:N search with score and margin) and ``decode_image`` (bytes or path to
BGR). Models come from ``models/`` and are sha256-checked against ``models/manifest.json``.
"""

from congress.faces.detector import Detection, DetectorModel, Keypoint
from congress.faces.embedder import EMBEDDING_SIZE, EmbedderModel
from congress.faces.engine import Face, FaceEngine
from congress.faces.gallery import Gallery, Match, threshold_for_far
from congress.faces.imageio import decode_image

__all__ = [
    "EMBEDDING_SIZE",
    "Detection",
    "DetectorModel",
    "EmbedderModel",
    "Face",
    "FaceEngine",
    "Gallery",
    "Keypoint",
    "Match",
    "decode_image",
    "threshold_for_far",
]
