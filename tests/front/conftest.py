"""The tablet front under test: a real controller (cheroot page + the front, both TLS) on SQLite with
a roster, documents at three access levels and badge tokens; clients are ``http.client`` and raw
``ssl`` sockets, so every test goes through a real TLS handshake and real HTTP parsing."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass, field

import pytest

from congress import badge_token, pki
from congress.broker import free_port
from controller.app import open_database
from controller.documents.access import Level
from controller.documents.samples import text_pdf
from controller.server import ControllerServer
from controller.storage import migrate
from controller.storage.tables import Delegate, Role, User
from tests.controller.conftest import FAST_HASH, PASSWORD, controller_config

DELEGATES = [("D-0001", "Nguyễn Văn An"), ("D-0002", "Trần Thị Bình"), ("D-0003", "Lê Hoàng Cường")]


@dataclass
class Front:
    server: ControllerServer
    ca: str
    refs: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.server.front.port

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False
        return ctx

    def connection(self, port: int | None = None, timeout: float = 20) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", port or self.port, context=self.context(),
                                           timeout=timeout)

    def get(self, path: str, delegate: str | None = None, headers: dict | None = None,
            port: int | None = None):
        """``(status, headers, body)`` of a GET on the front (or on ``port``)."""
        h = dict(headers or {})
        if delegate:
            h["Authorization"] = f"Badge {self.tokens[delegate]}"
        conn = self.connection(port)
        try:
            conn.request("GET", path, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def raw(self) -> ssl.SSLSocket:
        """A TLS socket to the front, handshake done."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        return self.context().wrap_socket(sock)

    def events(self, delegate: str) -> EventStream:
        return EventStream(self, delegate)


class EventStream:
    """A delegate's ``/p/events`` as a tablet reads it: ``next_event()`` skips comments."""

    def __init__(self, front: Front, delegate: str) -> None:
        self.conn = front.connection(timeout=20)
        self.conn.request("GET", "/p/events", headers={"Authorization": f"Badge {front.tokens[delegate]}"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        self.first = self.response.fp.readline()  # "retry: 3000": the stream is open

    def next_event(self) -> tuple[str, dict]:
        kind, data = None, None
        while True:
            line = self.response.fp.readline().decode()
            if not line:
                raise EOFError("the stream ended")
            line = line.rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and kind is not None:
                return kind, data

    def close(self) -> None:
        self.conn.close()


def make_front(tmp_path, venue_ca, password_hash, **portal) -> Front:
    cert_dir = venue_ca.dir / "broker" / "localhost"
    cfg = controller_config(
        tmp_path,
        database={"url": f"sqlite:///{tmp_path}/congress.db"},
        ca_dir=str(venue_ca.dir),
        web={
            "host": "127.0.0.1",
            "port": free_port(),
            "threads": 16,
            "max_live_clients": 8,
            "tls_cert": str(cert_dir / "cert.pem"),
            "tls_key": str(cert_dir / "key.pem"),
        },
        portal={"enabled": True, "host": "127.0.0.1", "port": free_port(), **portal},
    )
    db = open_database(cfg)
    migrate.upgrade(db)
    with db.session() as s:
        s.add(User(name="admin", role=Role.ADMIN, password_hash=password_hash))
        s.add_all(Delegate(id=i, name=n, delegation="Hà Nội", consent=False) for i, n in DELEGATES)
    db.dispose()
    server = ControllerServer(cfg, with_ingest=False).start()
    front = Front(server, str(venue_ca.ca_cert))
    library = server.services.documents
    library.set_group("presidium", "Đoàn Chủ tịch", ["D-0001"], actor="test")
    front.refs["delegates"] = library.add("Báo cáo chính trị", data=text_pdf(3), filename="bao-cao.pdf",
                                          actor="test")
    front.refs["group"] = library.add("Nhân sự", level=Level.GROUP, group="presidium", data=text_pdf(2),
                                      filename="nhan-su.pdf", actor="test")
    front.refs["public"] = library.add("Chương trình", level=Level.PUBLIC, data=text_pdf(1),
                                       filename="chuong-trinh.pdf", actor="test")
    key = pki.load_signing_key(venue_ca.controller_signing_key)
    front.tokens = {d: badge_token.issue(key, venue_ca.venue, d) for d, _ in DELEGATES}
    return front


@pytest.fixture(scope="session")
def password_hash() -> str:
    from controller.accounts.auth import make_hasher

    return make_hasher(**FAST_HASH).hash(PASSWORD)


@pytest.fixture
def front(tmp_path, venue_ca, password_hash):
    f = make_front(tmp_path, venue_ca, password_hash, keepalive_s=2)  # a closed stream is noticed soon
    yield f
    f.server.stop()
