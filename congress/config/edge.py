"""Configuration of a door unit (``congress edge run --config FILE``).

One typed tree: ``[venue]``, ``[unit]``, ``[broker]`` and the door-unit tables ``[door]``, ``[camera]``,
``[recognition]``, ``[feedback]``, ``[outbox]``, ``[gallery]``, ``[status]``. Every table except the
first three has defaults, so a minimal file names only the unit and its broker. The camera is chosen by
an explicit ``type`` (a tagged union): there is no silent fallback from one camera to another.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from congress.config import Section
from congress.config.common import BrokerSection, VenueSection, check_identifier


def _abs(p: Path | None, base: Path) -> Path | None:
    if p is None:
        return None
    return p if p.is_absolute() else base / p


class UnitSection(Section):
    """Identity of this door unit."""

    id: str = Field(title="Unit id", description="Must equal the CN of the unit's client certificate")
    data_dir: Path = Field(
        Path("/var/lib/congress-edge"),
        title="Data directory",
        description="Outbox, gallery and state; on a Pi systemd's StateDirectory",
    )
    signing_key_file: Path = Field(
        title="Signing key", description="PEM Ed25519 key issued by `congress ca issue-unit`"
    )
    controller_key_file: Path = Field(
        Path("controller-signing.pub"),
        title="Controller key",
        description="PEM Ed25519 public key of the controller (acks, gallery, commands, badges)",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_identifier(v, "unit.id")


class Direction(StrEnum):
    """Which way delegates pass this door; ``both`` lets the unit report ``in`` (the usual case)."""

    IN = "in"
    OUT = "out"
    BOTH = "both"


class DoorMode(StrEnum):
    """How a delegate proves who they are at this door."""

    FACE = "face"
    BADGE = "badge"
    BADGE_FACE = "badge+face"
    ATTENDANT = "attendant"


class DoorSection(Section):
    """The door this unit guards and how it checks delegates in."""

    id: str = Field("door", title="Door id", description="Shown on the controller page, e.g. 'north-1'")
    direction: Direction = Field(Direction.IN, title="Direction", description="in, out or both")
    mode: DoorMode = Field(
        DoorMode.FACE, title="Mode", description="face, badge, badge+face (1:1) or attendant"
    )
    liveness: bool = Field(
        True, title="Liveness", description="Require a blink or head movement before a face check-in"
    )
    liveness_window_s: float = Field(
        4.0, gt=0.2, le=30, title="Liveness window", description="Seconds in which the movement must happen"
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_identifier(v, "door.id")


class CameraType(StrEnum):
    """Which camera implementation to construct."""

    PICAMERA2 = "picamera2"
    OPENCV = "opencv"
    REPLAY = "replay"


class _CameraBase(Section):
    width: int = Field(640, ge=64, le=4096, title="Width", description="Frame width in pixels")
    height: int = Field(480, ge=48, le=4096, title="Height", description="Frame height in pixels")
    fps: float = Field(10.0, gt=0, le=120, title="Frame rate", description="Frames per second to deliver")


class Picamera2Camera(_CameraBase):
    """The Raspberry Pi camera through picamera2 (apt package python3-picamera2)."""

    type: Literal["picamera2"] = Field(title="Camera type", description="picamera2")
    index: int = Field(0, ge=0, le=7, title="Camera number", description="Which Pi camera (0 = first)")


class OpenCVCamera(_CameraBase):
    """A USB webcam (index), an RTSP URL or a video file, read through OpenCV."""

    type: Literal["opencv"] = Field(title="Camera type", description="opencv")
    source: str = Field(
        "0", title="Source", description="USB index ('0'), RTSP URL ('rtsp://...') or video file path"
    )


class ReplayCamera(_CameraBase):
    """Images from a folder or a playlist file, served as frames (tests and the demo)."""

    type: Literal["replay"] = Field(title="Camera type", description="replay")
    path: Path = Field(title="Folder or playlist", description="Image folder or a text file, one per line")
    hold_frames: int = Field(
        5, ge=1, le=10_000, title="Hold", description="How many frames each image is served for"
    )
    loop: bool = Field(False, title="Loop", description="Start again after the last image")


CameraSection = Annotated[Picamera2Camera | OpenCVCamera | ReplayCamera, Field(discriminator="type")]


#: Door defaults per embedder: (min_score, attendant_score, min_margin, same_person), derived from the
#: walk-through simulation in docs/benchmarks.md ("The door's decision").
RECOGNITION_DEFAULTS = {"sface": (0.56, 0.46, 0.08, 0.45), "dlib-resnet": (0.96, 0.93, 0.03, 0.9)}


class RecognitionSection(Section):
    """When a face counts as a confirmed delegate."""

    model: Literal["sface", "dlib-resnet"] = Field(
        "sface",
        title="Face embedder",
        description="Embedder of the face engine; must be the controller's ([faces] model): a unit "
        "refuses a gallery made by another embedder",
    )
    confirm_frames: int = Field(
        3, ge=1, le=60, title="Frames to confirm", description="Frames that must agree on the same delegate"
    )
    min_score: float | None = Field(
        None,
        ge=-1,
        le=1,
        title="Minimum score",
        description="Cosine similarity to the best gallery match in every confirming frame; default "
        "per embedder (sface 0.56, dlib-resnet 0.96: under 1 wrong check-in per 10,000 walk-throughs "
        "in the dev-set simulation); calibrate with `congress faces calibrate`",
    )
    min_margin: float | None = Field(
        None, ge=0, le=2, title="Minimum margin",
        description="Best score minus the second-best identity; default per embedder (sface 0.08, "
        "dlib-resnet 0.03)",
    )
    attendant_score: float | None = Field(
        None, ge=-1, le=1, title="Attendant score",
        description="Below min_score but above this: ask staff (attendant mode); default per embedder "
        "(sface 0.46, dlib-resnet 0.93)",
    )
    debounce_s: float = Field(
        30.0, ge=0, le=86_400, title="Debounce", description="Seconds before the same delegate counts again"
    )
    track_iou: float = Field(
        0.3, gt=0, lt=1, title="Tracking IoU", description="Overlap that links a face to the previous frame"
    )
    same_person: float | None = Field(
        None,
        ge=-1,
        le=1,
        title="Same person",
        description="Cosine between frames below which a face in the same spot is a new person; "
        "default per embedder (sface 0.45, dlib-resnet 0.9)",
    )
    models_dir: Path | None = Field(
        None, title="Models folder", description="Folder with the face models; default: the bundled models/"
    )

    @model_validator(mode="before")
    @classmethod
    def _model_defaults(cls, data):
        """Thresholds left out (or None) take the defaults of the configured embedder."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        model = data.get("model", "sface")
        if model not in RECOGNITION_DEFAULTS:
            return data  # the field's own validation names the choices
        score, attendant, margin, same = RECOGNITION_DEFAULTS[model]
        if data.get("min_score") is None:
            data["min_score"] = score
        if data.get("attendant_score") is None:
            data["attendant_score"] = min(attendant, data["min_score"])
        if data.get("min_margin") is None:
            data["min_margin"] = margin
        if data.get("same_person") is None:
            data["same_person"] = same
        return data


class FeedbackSection(Section):
    """GPIO pins (BCM numbers) of the lights, buzzer and optional turnstile relay."""

    pin_factory: Literal["native", "lgpio", "rpigpio", "mock"] | None = Field(
        None,
        title="Pin factory",
        description="gpiozero pin factory; default: gpiozero's own choice ('mock' only for tests/demo)",
    )
    green_pin: int = Field(17, ge=0, le=27, title="Green LED", description="BCM pin of the green LED")
    red_pin: int = Field(27, ge=0, le=27, title="Red LED", description="BCM pin of the red LED")
    amber_pin: int = Field(22, ge=0, le=27, title="Amber LED", description="BCM pin of the amber LED")
    buzzer_pin: int = Field(23, ge=0, le=27, title="Buzzer", description="BCM pin of the active buzzer")
    relay_pin: int | None = Field(
        None, ge=0, le=27, title="Relay", description="BCM pin of a turnstile relay; omit if none"
    )
    relay_open_s: float = Field(
        2.0, gt=0, le=30, title="Relay time", description="Seconds the relay stays closed per check-in"
    )

    @model_validator(mode="after")
    def _distinct(self) -> FeedbackSection:
        pins = [self.green_pin, self.red_pin, self.amber_pin, self.buzzer_pin]
        if self.relay_pin is not None:
            pins.append(self.relay_pin)
        if len(set(pins)) != len(pins):
            raise ValueError("feedback pins must all be different")
        return self


class OutboxSection(Section):
    """The on-disk queue of check-ins not yet acknowledged by the controller."""

    max_events: int = Field(
        10_000, ge=1, le=10_000_000, title="Capacity", description="Above this the unit refuses check-ins"
    )


class GallerySection(Section):
    """The gallery of enrolled delegates, sealed by the controller for this unit alone."""

    key_name: str = Field(
        "gallery-key",
        title="Key credential",
        description="Secret with the unit's X25519 gallery private key (64 hex digits, "
        "units/<id>/gallery.key from congress ca issue-unit): $CREDENTIALS_DIRECTORY/<name> or "
        "CONGRESS_GALLERY_KEY; else the file <data_dir>/gallery.key",
    )


class StatusSection(Section):
    """Heartbeat to the controller."""

    heartbeat_s: float = Field(
        10.0, ge=1, le=3600, title="Heartbeat", description="Seconds between status messages"
    )


class EdgeConfig(Section):
    """Door unit: ``[venue]``, ``[unit]``, ``[broker]`` and the door tables (all with defaults)."""

    venue: VenueSection
    unit: UnitSection
    broker: BrokerSection
    door: DoorSection = DoorSection()
    camera: CameraSection = Field(
        default_factory=lambda: OpenCVCamera(type="opencv"),
        title="Camera",
        description="Chosen by type: picamera2, opencv or replay",
    )
    recognition: RecognitionSection = RecognitionSection()
    feedback: FeedbackSection = FeedbackSection()
    outbox: OutboxSection = OutboxSection()
    gallery: GallerySection = GallerySection()
    status: StatusSection = StatusSection()

    def resolve_paths(self, base: Path) -> EdgeConfig:
        unit = self.unit.model_copy(
            update={
                "data_dir": _abs(self.unit.data_dir, base),
                "signing_key_file": _abs(self.unit.signing_key_file, base),
                "controller_key_file": _abs(self.unit.controller_key_file, base),
            }
        )
        update: dict = {"unit": unit, "broker": self.broker.resolve_paths(base)}
        if isinstance(self.camera, ReplayCamera):
            update["camera"] = self.camera.model_copy(update={"path": _abs(self.camera.path, base)})
        if self.recognition.models_dir is not None:
            update["recognition"] = self.recognition.model_copy(
                update={"models_dir": _abs(self.recognition.models_dir, base)}
            )
        return self.model_copy(update=update)
