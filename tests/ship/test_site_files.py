"""`congress venue site-files`: the installed tree runs as a real site broker bridged to the central one."""

from __future__ import annotations

import json
import os
import queue
import stat
import subprocess
import time
from pathlib import Path

import pytest

from congress import mqtt, pki, wire
from congress.broker import Mosquitto, free_port
from congress.cli import main
from congress.errors import FlashError
from flash.site_broker import parse_central

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/mosquitto").exists(), reason="mosquitto is not installed")


def test_site_files_run_as_a_bridged_site_broker(tmp_path, issued_ca, capsys):
    if "sf-1" not in pki.sites(issued_ca):
        pki.issue_site(issued_ca, "sf-1")
        pki.issue_unit(issued_ca, "sf-door", site="sf-1")
    central = Mosquitto.from_ca(issued_ca, work_dir=tmp_path / "central").start()
    out = tmp_path / "etc-mosquitto"
    try:
        assert main(["venue", "site-files", "sf-1", "--ca-dir", str(issued_ca), "--host", "gw-sf-1.local",
                     "--central", f"localhost:{central.port}", "--out", str(out), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["central"] == f"localhost:{central.port}"
        assert {"mosquitto.conf", "congress/site.pem", "congress/site.key", "congress/broker.key",
                "congress/congress.acl", "congress/ca.pem", "congress/crl.pem"} <= set(result["files"])
        for key in ("site.key", "broker.key"):
            assert stat.S_IMODE((out / "congress" / key).stat().st_mode) == 0o600
        port, data = free_port(), tmp_path / "data"
        data.mkdir()
        conf = ((out / "mosquitto.conf").read_text()
                .replace("/etc/mosquitto/congress", str(out / "congress"))
                .replace("/var/lib/mosquitto", str(data))
                .replace("listener 8883 0.0.0.0", f"listener {port} 127.0.0.1")
                .replace("user mosquitto", f"user {os.environ.get('USER') or 'root'}"))
        assert "autosave_on_changes true" in conf and "connection sf-1" in conf
        (tmp_path / "site.conf").write_text(conf)
        log = (tmp_path / "site.log").open("wb")
        proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(tmp_path / "site.conf")], stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            got: queue.Queue = queue.Queue()
            ctl_dir = issued_ca / "clients" / "controller"
            if not ctl_dir.is_dir():
                pki.issue_client(issued_ca, "controller")
            ctl = mqtt.make_client(client_id="controller", ca_file=issued_ca / "ca.pem",
                                   cert_file=ctl_dir / "cert.pem", key_file=ctl_dir / "key.pem")
            ctl.on_message = lambda c, u, m: got.put((m.topic, bytes(m.payload)))
            ctl.on_connect = lambda c, u, f, rc, p: c.subscribe(
                [(wire.routed("+", wire.subscription("congress-2026", "checkin")), 1)])
            mqtt.connect(ctl, "localhost", central.port)
            unit = pki.unit_credentials(issued_ca, "sf-door")
            door = mqtt.make_client(client_id="sf-door", ca_file=unit.ca_cert, cert_file=unit.cert,
                                    key_file=unit.key)
            deadline = time.monotonic() + 15
            while True:  # the site broker's certificate is for gw-sf-1.local, and localhost
                try:
                    mqtt.connect(door, "localhost", port, timeout=5)
                    break
                except Exception:
                    assert time.monotonic() < deadline, (tmp_path / "site.log").read_text()
                    time.sleep(0.2)
            door.publish(wire.unit_topic("congress-2026", "sf-door", "checkin"), b"through-the-bridge", qos=1)
            topic, payload = got.get(timeout=20)
            assert (topic, payload) == ("congress/congress-2026/site/sf-1/unit/sf-door/checkin",
                                        b"through-the-bridge")
            for c in (door, ctl):
                c.disconnect()
                c.loop_stop()
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()
    finally:
        central.close()


def test_site_files_refuses_unknown_site_and_bad_central(tmp_path, issued_ca, capsys):
    assert main(["venue", "site-files", "nowhere", "--ca-dir", str(issued_ca), "--host", "gw",
                 "--central", "c", "--out", str(tmp_path / "o")]) != 0
    assert "congress ca issue-site nowhere" in capsys.readouterr().err
    assert parse_central("central.local") == ("central.local", 8883)
    assert parse_central("10.0.0.1:18883") == ("10.0.0.1", 18883)
    with pytest.raises(FlashError, match="HOST:PORT"):
        parse_central("c:port")
