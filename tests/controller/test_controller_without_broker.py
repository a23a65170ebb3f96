"""The controller runs without its broker (issue "hostile input", item 18, first half): the page comes
up while the broker port is closed, the devices page says so in both languages, and once a real
Mosquitto (TLS, client certificates, ACL) listens on that port the link connects by itself and
check-ins flow; systemd hears READY=1 and the watchdog only while the threads run."""

from __future__ import annotations

import socket
import threading
import urllib.request

from sqlalchemy import func, select

from congress.broker import Mosquitto, free_port
from controller.bench.sim_door import SimDoor
from controller.link import LinkState
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.database import Database
from controller.storage.tables import CheckIn, Role, User
from controller.systemd import Notifier
from tests.controller.conftest import controller_config, login
from tests.controller.test_ingest import wait_for


def config(tmp_path, venue_ca, port: int):
    cert, key = venue_ca.client("controller")
    return controller_config(
        tmp_path, ca_dir=str(venue_ca.dir), database={"url": f"sqlite:///{tmp_path}/controller.db"},
        broker={"host": "localhost", "port": port, "ca_file": str(venue_ca.ca_cert), "cert_file": str(cert),
                "key_file": str(key)},
        web={"host": "127.0.0.1", "port": free_port()},
    )


def test_the_page_comes_up_without_the_broker_and_checkins_flow_once_it_is_there(
        tmp_path, venue_ca, password_hash):
    port = free_port()  # nothing listens here yet
    cfg = config(tmp_path, venue_ca, port)
    db = Database(cfg.database.url, info={"audit_key": b"k" * 32})
    migrate.upgrade(db)
    with db.session() as s:
        s.add(User(name="technician", role=Role.TECHNICIAN, password_hash=password_hash))
    db.dispose()
    server = ControllerServer(cfg).start()  # used to raise BrokerError: nothing accepts connections
    broker = None
    try:
        with urllib.request.urlopen(f"{server.url}/login", timeout=30) as r:
            assert r.status == 200
        link = server.services.link
        assert link.status.state is LinkState.CONNECTING and not link.connected
        assert server.alive()
        client = server.app.test_client()
        login(client, "technician")
        page = client.get("/devices?lang=vi").get_data(as_text=True)
        assert "id=\"ingest-connected\" class=\"error\"" in page and "chưa kết nối được" in page
        page = client.get("/devices?lang=en").get_data(as_text=True)
        assert "not reached since" in page
        assert client.get("/api/devices").get_json()["ingest"]["broker_state"] == "connecting"

        broker = Mosquitto.from_ca(venue_ca.dir, port=port, work_dir=tmp_path / "broker").start()
        wait_for(lambda: link.connected, timeout=60, what="the link connecting by itself")
        assert link.status.state is LinkState.CONNECTED
        door = SimDoor(venue_ca.unit("door-1"), venue_id=venue_ca.venue, host="localhost", port=port,
                       resend_s=5.0).start()
        try:
            seq = door.checkin("D900")
            wait_for(lambda: seq in door.acked, timeout=60, what="the check-in acknowledged")
        finally:
            door.stop()
        with server.db.session() as s:
            assert s.scalar(select(func.count()).select_from(CheckIn)) == 1
        page = client.get("/devices?lang=en").get_data(as_text=True)
        assert "id=\"ingest-connected\" class=\"ok-msg\"" in page

        broker.stop()  # and away again: the page says since when
        wait_for(lambda: link.status.state is LinkState.DISCONNECTED, timeout=60, what="disconnection seen")
        assert "DISCONNECTED since" in client.get("/devices?lang=en").get_data(as_text=True)
    finally:
        server.stop()
        if broker is not None:
            broker.close()


def test_systemd_hears_ready_and_the_watchdog_only_while_the_threads_run(tmp_path, monkeypatch):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # a ping every 0.5 s
    try:
        notifier = Notifier()
        notifier.ready("controller page at https://x")
        assert sock.recv(4096).startswith(b"READY=1\n")
        stop, alive = threading.Event(), [True]
        watcher = threading.Thread(target=notifier.watch, args=(stop, lambda: alive[0]))
        watcher.start()
        assert sock.recv(4096) == b"WATCHDOG=1"
        alive[0] = False  # a thread died: no more pings, systemd will restart the controller
        sock.settimeout(2)
        for _ in range(5):  # a ping already on its way may still come; then silence
            try:
                sock.recv(4096)
            except TimeoutError:
                break
        else:
            raise AssertionError("the watchdog was fed although a thread had died")
        stop.set()
        watcher.join(10)
        notifier.stopping()
        sock.settimeout(10)
        assert sock.recv(4096) == b"STOPPING=1"
    finally:
        sock.close()
