"""``congress controller run``: the page, the ingest and the device watch in one process.

:class:`ControllerServer` constructs everything once and passes it in: the database and live bus go
to ``create_app``, to the ingest (:func:`controller.ingest_service.build_ingest`, which calls
:class:`StatusSink` for unit heartbeats and ``bus.publish`` for stored check-ins) and to the
:class:`controller.devices.DeviceWatch` thread; the page's attendant lane gets a
:class:`controller.lane.UnitCommander` to answer door units, and the voting side
(:func:`controller.keypads.service.attach`: ballots, keypad reader, ballot timer) is attached too,
and the :class:`controller.gallery.GalleryService` (thread ``gallery``, its own MQTT connection) keeps
every door unit's sealed gallery current.
The page is served by cheroot, a production thread-pool WSGI server with built-in TLS that streams
each server-sent event as it is yielded; its pool has ``[web] threads`` threads and at most
``[web] max_live_clients`` of them follow live feeds. Stopping ends the live streams first, then the
server, the watch, the voting side, the gallery publisher and the ingest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from congress.config.controller import ControllerConfig
from congress.errors import ConfigError
from congress.wire import UnitStatus
from controller import devices, migrate
from controller.app import create_app, open_database
from controller.db import Database
from controller.live import LiveBus

log = logging.getLogger(__name__)


def _cheroot_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's error log into ours; dropped connections (a closed tab, a probe) are only debug."""
    dropped = "lost" in msg or "socket.error" in msg or "SSL" in msg
    log.log(logging.DEBUG if dropped else level, "web server: %s", msg, exc_info=traceback and not dropped)


class StatusSink:
    """The ingest's ``on_status``: store a unit's heartbeat and push the new health to live pages."""

    def __init__(self, db: Database, bus: LiveBus, policy: devices.AlarmPolicy) -> None:
        self.db, self.bus, self.policy = db, bus, policy

    def __call__(self, status: UnitStatus, received: dt.datetime | float | None = None) -> None:
        if isinstance(received, int | float):
            received = dt.datetime.fromtimestamp(received, dt.UTC)
        with self.db.session() as s:
            row = devices.record_status(s, status, received_at=received)
            data = devices.as_dict(row, received or dt.datetime.now(dt.UTC), self.policy)
        self.bus.publish("device", data)


class ControllerServer:
    """The running controller; :meth:`start` returns once it listens (``port`` is then known)."""

    def __init__(self, config: ControllerConfig, *, with_ingest: bool = True) -> None:
        self.config = config
        self.db = open_database(config)
        at, head = migrate.current(self.db), migrate.head()
        if at != head:
            self.db.dispose()
            raise ConfigError(
                f"the database is at schema revision {at or 'none'}, this controller needs {head}",
                hint="run: congress controller migrate --config FILE",
            )
        self.bus = LiveBus(max_clients=config.web.max_live_clients)
        self.app = create_app(config, db=self.db, bus=self.bus)
        svc = self.app.extensions["congress"]
        self.watch = devices.DeviceWatch(
            self.db, svc.policy, self.bus.publish, interval=config.devices.check_interval_s
        )
        from controller.keypads.service import attach

        self.voting = attach(svc, config)  # ballots, and the keypad reader when [keypads] is configured
        self.ingest = self.commander = self.gallery = None
        if with_ingest:
            from congress import pki
            from controller.ingest_service import build_ingest
            from controller.lane import UnitCommander

            self.ingest = build_ingest(
                config,
                self.db,
                ca_dir=config.ca_dir,
                on_status=StatusSink(self.db, self.bus, svc.policy),
                on_live=self.bus.publish,
            )
            self.commander = UnitCommander(
                venue_id=config.venue.id,
                broker=config.broker,
                signing_key=pki.load_signing_key(config.ca_dir / "controller-signing.key"),
            )
            svc.extra["commander"] = self.commander
            svc.extra["ingest"] = self.ingest
            from controller.gallery import GalleryService

            self.gallery = GalleryService(config, self.db)
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    @property
    def url(self) -> str:
        scheme = "https" if self.config.web.tls_cert else "http"
        return f"{scheme}://{self.config.web.host}:{self.port}"

    def _make_server(self):
        from cheroot import wsgi

        web = self.config.web
        server = wsgi.Server(
            (web.host, web.port),
            self.app,
            numthreads=web.threads,
            server_name="congress-controller",
            shutdown_timeout=5,
            timeout=30,
        )
        server.error_log = _cheroot_log
        if web.tls_cert:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            server.ssl_adapter = BuiltinSSLAdapter(str(web.tls_cert), str(web.tls_key))
        return server

    def start(self) -> ControllerServer:
        """Start the ingest, the device watch and the web server (in thread ``web-server``)."""
        if self.ingest is not None:
            self.ingest.start()
            self.commander.start()
            self.gallery.start()
        self.watch.start()
        self.voting.start()
        self._server = self._make_server()
        self._server.prepare()  # binds now, so a port clash is reported here
        self._thread = threading.Thread(target=self._server.serve, name="web-server", daemon=True)
        self._thread.start()
        log.info("controller page at %s (%d threads)", self.url, self.config.web.threads)
        return self

    def wait(self, stop: threading.Event) -> None:
        stop.wait()

    def stop(self) -> None:
        self.bus.close()
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(10)
        self.watch.stop()
        self.voting.stop()
        if self.ingest is not None:
            self.gallery.stop()
            self.commander.stop()
            self.ingest.stop()
        self.db.dispose()
