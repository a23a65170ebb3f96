"""The signed wire protocol between door units and the controller (see docs/wire-protocol.md).

``encode(msg, key)`` signs a message and returns its canonical bytes; ``verify(payload, ...)`` checks
one and returns the message or raises ``ProtocolError(reason, message)`` with a :class:`Reason` code.
Topics: ``congress/<venue>/unit/<unit_id>/<kind>`` (:func:`unit_topic`). Event id of a unit message:
``(unit, boot, seq)``.
"""

from congress.wire.codec import (
    MAX_GALLERY_BYTES,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    BootCounter,
    Reason,
    ReplayGuard,
    canonical,
    encode,
    new_boot_id,
    sign,
    verify,
)
from congress.wire.messages import (
    Ack,
    AckedEvent,
    AckOutcome,
    CheckIn,
    Command,
    Direction,
    GalleryPart,
    GalleryUpdate,
    Liveness,
    Message,
    Method,
    UnitCommand,
    UnitState,
    UnitStatus,
)
from congress.wire.topics import (
    CONTROLLER_WRITES,
    MAX_GALLERY_PARTS,
    UNIT_WRITES,
    Kind,
    gallery_part_topic,
    parse_topic,
    subscription,
    unit_topic,
)

__all__ = [
    "CONTROLLER_WRITES",
    "MAX_GALLERY_BYTES",
    "MAX_GALLERY_PARTS",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "UNIT_WRITES",
    "Ack",
    "AckOutcome",
    "AckedEvent",
    "BootCounter",
    "CheckIn",
    "Command",
    "Direction",
    "GalleryPart",
    "GalleryUpdate",
    "Kind",
    "Liveness",
    "Message",
    "Method",
    "Reason",
    "ReplayGuard",
    "UnitCommand",
    "UnitState",
    "UnitStatus",
    "canonical",
    "encode",
    "gallery_part_topic",
    "new_boot_id",
    "parse_topic",
    "sign",
    "subscription",
    "unit_topic",
    "verify",
]
