"""``congress controller run``: the page and the controller's background services in one process.

:class:`ControllerServer` opens the one :class:`controller.storage.database.Database` of the process,
checks its schema, and lets ``create_app`` (:mod:`controller.app`, the composition root) build every
service; it then starts the background ones from the app's :class:`controller.app.Services`: the
check-in ingest, the one broker connection (:class:`controller.link.ControllerLink`, which also carries
unit commands) and gallery publication (when it runs with MQTT), the device watch and the voting side
(keypad reader, ballot timer).
The broker need not be reachable at the start: the page comes up and the broker connection is made
in the background as soon as the broker answers (its state is on the devices page).
The page is served by cheroot, a production thread-pool WSGI server with built-in TLS that streams
each server-sent event as it is yielded, with the TLS handshake and the request head read in its
selector loop under deadlines (:mod:`controller.guarded_server`, so slow clients hold no thread);
its pool has ``[web] threads`` threads and at most
``[web] max_live_clients`` of them follow live feeds. Stopping ends the live streams first, then the
server, the watch, the voting side, the gallery publisher, the ingest and the broker connection.
With ``[portal] enabled`` the delegates' tablets have their own port, served by an event loop
(:class:`controller.front.server.TabletFront`, :mod:`controller.front`); it starts after the page
and stops right after the live bus closes.
"""

from __future__ import annotations

import logging
import threading

from congress.config.controller import ControllerConfig
from congress.errors import ConfigError
from controller.app import Services, create_app, open_database
from controller.live import LiveBus
from controller.storage import migrate

log = logging.getLogger(__name__)


def _cheroot_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's error log into ours; dropped connections (a closed tab, a probe) are only debug."""
    dropped = "lost" in msg or "socket.error" in msg or "SSL" in msg
    log.log(logging.DEBUG if dropped else level, "web server: %s", msg, exc_info=traceback and not dropped)


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
        self.app = create_app(config, db=self.db, bus=self.bus, mqtt=with_ingest)
        self.services: Services = self.app.extensions["congress"]
        self._server = None
        self._thread: threading.Thread | None = None
        self.front = None  # the tablet front, when [portal] enabled

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    @property
    def url(self) -> str:
        scheme = "https" if self.config.web.tls_cert else "http"
        return f"{scheme}://{self.config.web.host}:{self.port}"

    def _make_server(self):
        from controller.guarded_server import GuardedServer, SlowClientLimits

        web = self.config.web
        limits = SlowClientLimits(
            handshake_timeout=web.handshake_timeout_s,
            header_timeout=web.header_timeout_s,
            per_address=web.max_pending_per_address,
            total=web.max_pending,
        )
        server = GuardedServer(
            (web.host, web.port),
            self.app,
            numthreads=web.threads,
            server_name="congress-controller",
            shutdown_timeout=5,
            request_queue_size=web.backlog,
            timeout=30,
            limits=limits,  # slow clients wait in the selector, never in a thread (docs/security.md, 4)
        )
        server.error_log = _cheroot_log
        if web.tls_cert:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            server.ssl_adapter = BuiltinSSLAdapter(str(web.tls_cert), str(web.tls_key))
        return server

    def start(self) -> ControllerServer:
        """Start the ingest, the device watch and the web server (in thread ``web-server``)."""
        svc = self.services
        if svc.link is not None:
            svc.ingest.start()  # its thread first: the durable session's backlog arrives on connecting
            if svc.site_keypads is not None:
                svc.site_keypads.start()
            svc.link.start(wait=False)  # the page comes up without the broker; the link connects later
            svc.gallery.start()
        svc.watch.start()
        svc.voting.start()
        svc.documents.opens.start()
        if self.config.synthesis.enabled:
            from controller.discussion.runner import SynthesisRunner

            threads = self.config.synthesis.threads or None
            svc.synthesis = SynthesisRunner(svc.discussions, threads=threads).start()
        self._server = self._make_server()
        self._server.prepare()  # binds now, so a port clash is reported here
        self._thread = threading.Thread(target=self._server.serve, name="web-server", daemon=True)
        self._thread.start()
        log.info("controller page at %s (%d threads)", self.url, self.config.web.threads)
        if self.config.portal.enabled:
            from controller.front.server import TabletFront

            self.front = TabletFront(self.config, self.app, svc.documents, self.bus).start()
        return self

    def wait(self, stop: threading.Event) -> None:
        stop.wait()

    def alive(self) -> bool:
        """The web server and the ingest threads are running (what systemd's watchdog is fed on)."""
        threads = [self._thread]
        if self.services.ingest is not None:
            threads.append(self.services.ingest.thread)
        return all(t is not None and t.is_alive() for t in threads)

    def stop(self) -> None:
        svc = self.services
        self.bus.close()
        if self.front is not None:
            self.front.stop()
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(10)
        svc.watch.stop()
        svc.voting.stop()
        svc.documents.opens.stop()
        if svc.synthesis is not None:
            svc.synthesis.stop()
        if svc.link is not None:
            svc.gallery.stop()
            svc.ingest.stop()  # acknowledges the batch in hand on the link
            if svc.site_keypads is not None:
                svc.site_keypads.stop()
            svc.link.stop()
        self.db.dispose()
