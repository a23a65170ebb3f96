"""MQTT topic layout: ``congress/<venue>/unit/<unit_id>/<kind>``.

One subtree per unit, so the broker's pattern ACL (``%u`` = certificate CN = unit id) can confine a unit
to its own topics: it writes ``checkin`` and ``status`` and reads ``ack``, ``gallery`` and ``cmd``.
A gallery's sealed parts have a retained topic each, ``.../gallery/<part>`` (:func:`gallery_part_topic`),
next to its manifest on ``.../gallery``.
The controller subscribes with ``+`` in place of the unit id. See docs/wire-protocol.md.

**Sites.** A satellite site's broker bridges its units' topics to the central broker under the site's
own subtree, ``congress/<venue>/site/<site>/unit/<unit_id>/<kind>`` (:func:`routed`), so the central
ACL confines each site bridge to that subtree whatever units the site holds. A unit signs the same
message wherever it is (the site is the route, not part of the message): :func:`split_route` gives
the site and the unit topic back. Two more topics: the bridge's state, ``congress/<venue>/site/<site>/link``
(``1`` up, ``0`` down; Mosquitto's bridge notification, retained, with ``0`` as its last will on the
central broker), and the controller's presence, ``congress/<venue>/controller/online`` (retained,
re-published each time the controller has subscribed; door units resend what is unacknowledged when it
changes). See docs/multi-site.md.
"""

from __future__ import annotations

import re
from enum import StrEnum

from congress.errors import ProtocolError
from congress.wire.fields import excerpt

ROOT = "congress"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


class Kind(StrEnum):
    """Message kinds; each is the last level of its topic and the ``type`` of its envelope."""

    CHECKIN = "checkin"
    STATUS = "status"
    ACK = "ack"
    GALLERY = "gallery"  # the manifest of a gallery version
    GALLERY_PART = "gallery_part"  # one sealed part, on .../gallery/<part>
    CMD = "cmd"
    KEYPADS = "keypads"  # a site gateway relays its base station's keypad frames
    KEYPAD_REPLIES = "keypad_replies"  # frames for that base station (acks, ballots, re-polls)


#: Sent by door units (and site gateways), signed with the unit's (the site's) Ed25519 key.
UNIT_WRITES = frozenset({Kind.CHECKIN, Kind.STATUS, Kind.KEYPADS})
#: Sent by the controller, signed with the controller's Ed25519 key.
CONTROLLER_WRITES = frozenset({Kind.ACK, Kind.GALLERY, Kind.GALLERY_PART, Kind.CMD, Kind.KEYPAD_REPLIES})
#: Largest part number + 1 of one gallery version.
MAX_GALLERY_PARTS = 10_000


def unit_topic(venue_id: str, unit_id: str, kind: Kind | str) -> str:
    """Topic of ``kind`` for one unit; ``unit_id`` may be ``+`` (subscribe) or ``%u`` (ACL pattern).
    For ``GALLERY_PART`` it is the filter of every part, ``.../gallery/+``."""
    if Kind(kind) is Kind.GALLERY_PART:
        return f"{ROOT}/{venue_id}/unit/{unit_id}/{Kind.GALLERY.value}/+"
    return f"{ROOT}/{venue_id}/unit/{unit_id}/{Kind(kind).value}"


def gallery_part_topic(venue_id: str, unit_id: str, part: int) -> str:
    """The retained topic of part ``part`` of a unit's gallery."""
    return f"{ROOT}/{venue_id}/unit/{unit_id}/{Kind.GALLERY.value}/{part}"


def subscription(venue_id: str, kind: Kind | str) -> str:
    """The controller's subscription for ``kind`` from every unit."""
    return unit_topic(venue_id, "+", kind)


def routed(site: str | None, topic: str) -> str:
    """``topic`` (a unit topic or filter) as the central broker carries it for a unit behind ``site``;
    ``site`` may be ``+`` (subscribe to every site) or ``None`` (the unit talks to the central broker)."""
    if site is None:
        return topic
    root, venue, rest = topic.split("/", 2)
    return f"{root}/{venue}/site/{site}/{rest}"


def split_route(topic: str) -> tuple[str | None, str]:
    """``(site, unit topic)`` of a topic on the central broker; ``site`` is None for a direct unit."""
    parts = topic.split("/", 4)
    if len(parts) == 5 and parts[0] == ROOT and parts[2] == "site" and parts[4].startswith("unit/"):
        if not _ID.match(parts[3]):
            raise ProtocolError("bad_topic", f"topic {excerpt(topic, 120)} has an invalid site id")
        return parts[3], f"{parts[0]}/{parts[1]}/{parts[4]}"
    return None, topic


def link_topic(venue_id: str, site: str) -> str:
    """Retained state of the bridge of ``site`` (``+`` for every site): ``1`` up, ``0`` down."""
    return f"{ROOT}/{venue_id}/site/{site}/link"


def parse_link_topic(topic: str) -> tuple[str, str] | None:
    """``(venue_id, site)`` of a link topic, or None if ``topic`` is not one."""
    parts = topic.split("/")
    if (len(parts) == 5 and parts[0] == ROOT and parts[2] == "site" and parts[4] == "link"
            and _ID.match(parts[1]) and _ID.match(parts[3])):
        return parts[1], parts[3]
    return None


def presence_topic(venue_id: str) -> str:
    """Retained controller presence: changes each time the controller (re)subscribes."""
    return f"{ROOT}/{venue_id}/controller/online"


def parse_topic(topic: str) -> tuple[str, str, Kind]:
    """Split a concrete topic into ``(venue_id, unit_id, kind)``; raise ``ProtocolError('bad_topic')``.
    A site-routed topic (``congress/<venue>/site/<site>/unit/...``) is read as its unit topic."""
    topic = split_route(topic)[1]
    parts = topic.split("/")
    quoted = excerpt(topic, 120)
    if parts[-1] == Kind.GALLERY_PART.value:
        raise ProtocolError("bad_topic", f"topic {quoted}: gallery parts go to .../gallery/<part>")
    if len(parts) == 6 and parts[4] == Kind.GALLERY.value and parts[5].isdigit() and parts[5].isascii():
        if str(int(parts[5])) != parts[5] or int(parts[5]) >= MAX_GALLERY_PARTS:
            raise ProtocolError("bad_topic", f"topic {quoted} names an invalid gallery part")
        parts = [*parts[:4], Kind.GALLERY_PART.value]
    if len(parts) != 5 or parts[0] != ROOT or parts[2] != "unit":
        raise ProtocolError("bad_topic", f"topic {quoted} is not congress/<venue>/unit/<unit>/<kind>")
    venue, unit, kind = parts[1], parts[3], parts[4]
    if not _ID.match(venue) or not _ID.match(unit):
        raise ProtocolError("bad_topic", f"topic {quoted} has an invalid venue or unit id")
    try:
        return venue, unit, Kind(kind)
    except ValueError:
        raise ProtocolError("unknown_type", f"topic {quoted} ends in unknown kind {excerpt(kind)}") from None
