"""Tables of the sites area: one row per satellite site with the last state its bridge reported.

Which site a delegate attends is ``delegates.site`` (:class:`controller.storage.tables.Delegate`);
which site a door unit stands at is recorded by the venue CA (``congress ca issue-unit --site``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.storage.database import Base, UTCDateTime


class Site(Base):
    """A satellite site: its display name and its bridge's link state as the controller last heard it.

    ``link_up`` is None until the first state arrives; ``link_since`` is when the controller saw the
    state change (a link that went down while the controller was stopped is dated by the controller's
    own first sight of it, and says so on the page).
    """

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    link_up: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    link_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heard_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
