"""Building the portal's services once (``create_app``): :class:`Portal`, one typed field per part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher

from congress.config.controller import ControllerConfig
from controller.delegates.enrollment import Enroller
from controller.documents.library import Library
from controller.portal.attendance import Confirmations
from controller.portal.feedback import Feedback
from controller.portal.notices import Notices
from controller.portal.profile import Profiles
from controller.portal.signin import PortalAuth
from controller.storage.database import Database


@dataclass
class Portal:
    """The delegates' portal: ``auth`` (sign-in and sessions), ``confirmations`` (attendance answers),
    ``profiles`` (own data, consent, corrections, results), ``notices``, ``feedback`` (comments,
    requests to speak, contributions, surveys); ``documents`` is the shared library."""

    auth: PortalAuth
    confirmations: Confirmations
    profiles: Profiles
    notices: Notices
    feedback: Feedback
    documents: Library


def build_portal(config: ControllerConfig, db: Database, hasher: PasswordHasher, documents: Library,
                 enroller: Enroller, publish: Callable[[str, dict], None] | None = None) -> Portal:
    """The portal of ``config``; sign-in codes and badges are checked with the library's signing key."""
    return Portal(
        auth=PortalAuth(db, hasher, venue_id=config.venue.id, signing_key=documents.key, publish=publish),
        confirmations=Confirmations(db),
        profiles=Profiles(db, enroller),
        notices=Notices(db, publish),
        feedback=Feedback(db, documents, publish),
        documents=documents,
    )
