"""The controller's composition root: ``create_app`` builds every service once and hands it over.

``create_app(config)`` constructs, in one place, the :class:`controller.storage.database.Database`
(one per process; its sessions carry the audit key), the :class:`controller.live.LiveBus`, and every
area's service as a typed field of :class:`Services`: the voting side (ballots, keypad reader, ballot
timer), the enroller and roster imports, the device watch, the programme, session roll calls and
the document library, and, with ``mqtt=True`` (``congress
controller run``), the broker-facing services on the controller's one broker connection
(:class:`controller.link.ControllerLink`, one boot counter): check-in ingest, unit commands and gallery
publication.
Nothing is started here and nothing is built later in a request thread; :class:`controller.server.
ControllerServer` starts and stops the background services. The request guard
(:mod:`controller.web.guard`) and one blueprint per area (:mod:`controller.web`) are attached with
``init_app``. Nothing lives at module level, so tests build as many apps as they like.

A view reaches the services with :func:`services` (typed), never through a string-keyed registry.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from flask import Flask, current_app

from congress.config.controller import ControllerConfig
from controller import audit
from controller.accounts.auth import LoginLimits, make_hasher
from controller.devices.health import AlarmPolicy
from controller.live import LiveBus
from controller.storage.database import Database

if TYPE_CHECKING:
    from controller.checkins.ingest import Ingest
    from controller.delegates.enrollment import Enroller
    from controller.delegates.gallery import GalleryPublisher
    from controller.delegates.import_job import RosterImports
    from controller.devices.commands import UnitCommander
    from controller.devices.health import DeviceWatch
    from controller.discussion.runner import SynthesisRunner
    from controller.discussion.service import Discussions
    from controller.documents.library import Library
    from controller.link import ControllerLink
    from controller.portal.service import Portal
    from controller.programme.agenda import Programme
    from controller.programme.rollcall import RollCalls
    from controller.sites.keypads import SiteKeypads
    from controller.sites.service import SitesService
    from controller.voting.ballots import Ballots
    from controller.voting.candidates import CandidateLists
    from controller.voting.keypad_reader import KeypadReader
    from controller.voting.service import VotingService

log = logging.getLogger(__name__)

#: Largest upload (roster CSV with photos in a zip is not accepted; photos come by path).
MAX_UPLOAD = 16 * 1024 * 1024


@dataclass
class Services:
    """Everything the views and the background threads use, one typed field per service.

    Reached as :func:`services` in a view (``current_app.extensions["congress"]``). The broker-facing
    fields (``link``, ``ingest``, ``commander``, ``gallery``) are ``None`` in a process without MQTT
    (tests, the
    page-only ``run --no-ingest``); ``keypads`` is ``None`` without a ``[keypads]`` table.
    """

    config: ControllerConfig
    db: Database
    bus: LiveBus
    policy: AlarmPolicy
    limits: LoginLimits
    session_idle: dt.timedelta
    session_lifetime: dt.timedelta
    secure_cookies: bool
    tls: bool
    hasher: PasswordHasher
    ballots: Ballots
    candidates: CandidateLists  # candidate lists (controller.voting.candidates), photos sealed
    voting: VotingService
    keypads: KeypadReader | None
    enroller: Enroller
    imports: RosterImports
    watch: DeviceWatch
    programme: Programme
    rollcalls: RollCalls
    documents: Library
    sites: SitesService
    portal: Portal  # the delegates' portal (controller.portal)
    discussions: Discussions
    synthesis: SynthesisRunner | None = None  # started by ``ControllerServer``
    link: ControllerLink | None = None
    ingest: Ingest | None = None
    commander: UnitCommander | None = None
    site_keypads: SiteKeypads | None = None  # votes relayed by satellite sites' gateways
    gallery: GalleryPublisher | None = None

    def init_app(self, app: Flask) -> None:
        app.extensions["congress"] = self


def services() -> Services:
    """The running app's :class:`Services` (inside a request or an app context)."""
    return current_app.extensions["congress"]


def open_database(config: ControllerConfig) -> Database:
    """The configured database, its sessions carrying the audit key from the data directory.

    SQL parameters never reach a log line or an error message: the same engine serves the keypad
    reader, whose transactions carry a secret choice and a delegate id together."""
    return Database(config.database.url, info=audit.session_info(config.data_dir), hide_parameters=True)


def open_configured(path: str | os.PathLike) -> tuple[ControllerConfig, Database]:
    """Read the controller configuration file ``path`` and open its database (the commands' start)."""
    from congress.config import load_config

    config = load_config(path, ControllerConfig)
    return config, open_database(config)


def build_services(config: ControllerConfig, db: Database, bus: LiveBus, *, mqtt: bool = False) -> Services:
    """Construct every service of the controller for ``config`` (none is started)."""
    from controller.checkins.attendance import QuorumPolicy
    from controller.delegates.enrollment import build_enroller
    from controller.delegates.import_job import RosterImports
    from controller.devices.health import DeviceWatch
    from controller.discussion.service import Discussions
    from controller.documents.service import build_library
    from controller.portal.service import build_portal
    from controller.programme.agenda import Programme
    from controller.programme.rollcall import RollCalls
    from controller.sites.service import SitesService
    from controller.voting.ballots import Ballots
    from controller.voting.candidate_photos import CandidatePhotos
    from controller.voting.candidates import CandidateLists
    from controller.voting.secret_tally import BallotKeys
    from controller.voting.service import build_voting

    sec = config.security
    devices = config.devices
    policy = AlarmPolicy(silent_after_s=devices.silent_after_s, outbox_alarm=devices.outbox_alarm)
    ballots = Ballots(db, QuorumPolicy.parse(config.attendance.quorum), publish=bus.publish,
                      keys=BallotKeys(Path(config.data_dir) / "ballot-keys"))
    voting = build_voting(config, db, ballots)
    enroller = build_enroller(config)
    hasher = make_hasher(sec.argon2_memory_kib, sec.argon2_time_cost)
    documents = build_library(config, db, bus.publish)
    svc = Services(
        config=config,
        db=db,
        bus=bus,
        policy=policy,
        limits=LoginLimits(
            per_account=sec.login_failures_per_account,
            per_ip=sec.login_failures_per_ip,
            window=dt.timedelta(minutes=sec.login_window_minutes),
            max_delay=dt.timedelta(seconds=sec.login_max_delay_s),
        ),
        session_idle=dt.timedelta(minutes=sec.session_idle_minutes),
        session_lifetime=dt.timedelta(hours=sec.session_max_hours),
        secure_cookies=sec.secure_cookies,
        tls=config.web.tls_cert is not None,
        hasher=hasher,
        ballots=ballots,
        candidates=CandidateLists(db, CandidatePhotos(Path(config.data_dir)), bus.publish),
        voting=voting,
        keypads=voting.reader,
        enroller=enroller,
        imports=RosterImports(db, bus, enroller),
        watch=DeviceWatch(db, policy, bus.publish, interval=config.devices.check_interval_s),
        programme=Programme(db, bus.publish),
        rollcalls=RollCalls(db, QuorumPolicy.parse(config.attendance.quorum), bus.publish),
        documents=documents,
        sites=SitesService(db, QuorumPolicy.parse(config.attendance.quorum), ca_dir=config.ca_dir,
                           publish=bus.publish, stale_after_s=3 * config.devices.silent_after_s),
        portal=build_portal(config, db, hasher, documents, enroller, bus.publish),
        discussions=Discussions(db, checkpoints=config.data_dir / "synthesis", publish=bus.publish,
                                language=config.venue.language, congress_name=config.venue.name),
    )
    svc.discussions.library = svc.documents
    svc.discussions.feeders.append(svc.portal.feedback.records)  # what delegates wrote in their app
    if mqtt:
        _add_broker_services(svc)
    return svc


def _add_broker_services(svc: Services) -> None:
    """The services that talk to the door units, all on one broker connection."""
    from controller.checkins.service import build_ingest, build_link
    from controller.checkins.unit_registry import UnitRegistry
    from controller.delegates.gallery import build_gallery_publisher
    from controller.devices.commands import UnitCommander
    from controller.devices.heartbeats import StatusSink

    config = svc.config
    units = UnitRegistry(config.ca_dir)
    svc.link = build_link(config, registry=units)  # units behind a site are reached through its bridge
    svc.ingest = build_ingest(
        svc.db,
        svc.link,
        ca_dir=config.ca_dir,
        on_status=StatusSink(svc.db, svc.bus, svc.policy),
        on_live=svc.bus.publish,
        registry=units,
        on_link=svc.sites.on_link,
    )
    svc.commander = UnitCommander(svc.link)
    if svc.keypads is not None:
        from controller.sites.keypads import SiteKeypads

        svc.site_keypads = SiteKeypads(svc.link, svc.keypads, units)
    svc.gallery = build_gallery_publisher(config, svc.db, svc.link.publish_retained,
                                          units, counter=svc.link.counter)


def create_app(
    config: ControllerConfig,
    test_config: dict | None = None,
    *,
    db: Database | None = None,
    bus: LiveBus | None = None,
    mqtt: bool = False,
) -> Flask:
    """Build the controller page for ``config``; ``db``/``bus`` may be handed in (``run``, tests)."""
    from controller.web import guard, i18n, labels, register_blueprints

    web_dir = Path(__file__).resolve().parent / "web"
    app = Flask("controller.web", root_path=str(web_dir), static_folder="static", template_folder="templates")
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD, JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)
    svc = build_services(
        config,
        db or open_database(config),
        bus or LiveBus(max_clients=config.web.max_live_clients),
        mqtt=mqtt,
    )
    svc.init_app(app)
    svc.bus.init_app(app)
    guard.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    register_blueprints(app)
    app.jinja_env.globals["venue"] = config.venue
    return app
