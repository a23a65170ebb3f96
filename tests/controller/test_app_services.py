"""create_app is the one composition root: every service built once, typed, on one database and, for
``controller run``, on one broker connection with one boot counter."""

from __future__ import annotations

import dataclasses

from controller.app import Services, create_app
from tests.controller.conftest import controller_config


def test_services_are_typed_fields_built_once(tmp_path, sqlite_db, venue_ca):
    cfg = controller_config(tmp_path, ca_dir=str(venue_ca.dir))
    app = create_app(cfg, {"TESTING": True}, db=sqlite_db)
    svc: Services = app.extensions["congress"]
    names = {f.name for f in dataclasses.fields(Services)}
    assert "extra" not in names and {"ballots", "voting", "enroller", "imports", "watch", "link"} <= names
    assert svc.db is sqlite_db
    assert svc.voting.ballots is svc.ballots and svc.ballots.db is svc.db
    assert svc.imports.enroller is svc.enroller and svc.imports.db is svc.db
    assert svc.keypads is None  # no [keypads] table
    assert (svc.link, svc.ingest, svc.commander, svc.gallery) == (None, None, None, None)  # no MQTT here
    assert not svc.watch.is_alive()  # built, not started: ControllerServer starts it


def test_one_broker_link_carries_ingest_commands_and_gallery(tmp_path, sqlite_db, venue_ca):
    cfg = controller_config(tmp_path, ca_dir=str(venue_ca.dir))
    svc: Services = create_app(cfg, {"TESTING": True}, db=sqlite_db, mqtt=True).extensions["congress"]
    assert svc.link is not None and not svc.link.started  # nothing connects before run starts it
    assert svc.link.client_id == "controller" and svc.link.durable
    assert svc.ingest.link is svc.link and svc.commander.link is svc.link
    assert svc.gallery._counter is svc.link.counter  # acks, commands, gallery: one boot counter
    assert svc.ingest.db is svc.gallery.db is svc.db
