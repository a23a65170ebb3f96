"""Building the documents service from the controller configuration (``create_app`` and commands)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from congress.config.controller import ControllerConfig
from controller.documents.copies import CopyStore
from controller.documents.library import Library
from controller.documents.open_log import OpenLog
from controller.storage.database import Database

log = logging.getLogger(__name__)


def build_library(
    config: ControllerConfig, db: Database, publish: Callable[[str, dict], None] | None = None
) -> Library:
    """The :class:`Library` of ``config``: files under ``<data_dir>/documents``, QR codes signed with
    ``<ca_dir>/controller-signing.key`` (without that key the library works but prints no codes)."""
    key = None
    key_path = config.ca_dir / "controller-signing.key"
    if key_path.exists():
        from congress import pki

        key = pki.load_signing_key(key_path)
    else:
        log.warning("no %s: documents get no signed QR codes", key_path)
    docs = config.documents
    return Library(
        db,
        CopyStore(config.data_dir / "documents"),
        venue_id=config.venue.id,
        zone=config.venue.timezone,
        signing_key=key,
        portal_url=docs.portal_url, lang=config.venue.language,
        max_bytes=docs.max_mb * 1024 * 1024,
        max_pages=docs.max_pages,
        publish=publish,
        opens=OpenLog(db),
    )
