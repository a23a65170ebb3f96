"""Who may read a document: one pure rule, checked on every request (no database in here).

Access levels:

* ``public`` — anyone, guests and press included, without logging in;
* ``delegates`` — any delegate, and staff;
* ``group`` — members of one named group (the presidium, a committee), and the secretariat;
* ``confidential`` — "paper only": the entry records that the document exists; no file is ever
  stored, so there is nothing to read, for anybody.

A :class:`Reader` is whoever asks: a delegate (identified today by a signed badge token, later by the
portal's session; see :mod:`controller.documents.delegate_access`), a staff account (by its role), or
a guest (nobody logged in). The secretariat (staff who manage documents) may read every stored
document; an observer reads what a delegate reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    PUBLIC = "public"
    DELEGATES = "delegates"
    GROUP = "group"
    CONFIDENTIAL = "confidential"


class ReaderKind(StrEnum):
    GUEST = "guest"
    DELEGATE = "delegate"
    STAFF = "staff"


@dataclass(frozen=True)
class Reader:
    """Who is asking, as the access rule and the watermark need it."""

    kind: ReaderKind
    id: str = ""  # delegate id, or "user:<id>" for staff
    name: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
    secretariat: bool = False  # staff allowed to manage documents

    @property
    def holder_id(self) -> str:
        """The key of this reader's watermarked copies ("guest" copies are shared by all guests)."""
        return self.id if self.kind is not ReaderKind.GUEST else "guest"


GUEST = Reader(ReaderKind.GUEST)


def may_read(reader: Reader, level: Level, group: str | None = None) -> bool:
    """Whether ``reader`` may receive a copy of a document at ``level`` (for ``group``)."""
    if level is Level.CONFIDENTIAL:
        return False
    if level is Level.PUBLIC:
        return True
    if reader.kind is ReaderKind.GUEST:
        return False
    if level is Level.DELEGATES:
        return True
    # A named group: its members, and the secretariat that prepares its papers.
    return reader.secretariat or (
        reader.kind is ReaderKind.DELEGATE and group is not None and group in reader.groups
    )
