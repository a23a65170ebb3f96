"""`congress flash --site`: a satellite site gateway's card (site broker with its bridge, keypad relay),
written and read back, then its first-boot script run for real in a root folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tomllib

import pytest

from congress import pki
from congress.cli import main

from .images import TRIXIE_BOOT

GATEWAY = """[venue]
id = "congress-2026"

[site]
id = "gw-1"

[broker]
ca_file = "ca.pem"
cert_file = "site.pem"
key_file = "site.key"

[keypads]
port = "/dev/congress-base"
"""


@pytest.fixture
def card(tmp_path, issued_ca, capsys):
    if "gw-1" not in pki.sites(issued_ca):
        pki.issue_site(issued_ca, "gw-1")
    boot = tmp_path / "bootfs"
    for name, data in TRIXIE_BOOT.items():
        (boot / name).parent.mkdir(parents=True, exist_ok=True)
        (boot / name).write_bytes(data)
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(GATEWAY)
    code = main(["flash", "--boot-dir", str(boot), "--site", "gw-1", "--config", str(cfg), "--central",
                 "congress.example.vn:8883", "--hostname", "gw-1", "--ca-dir", str(issued_ca), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return boot, json.loads(out)


def test_gateway_card_holds_the_site_broker_bridge_and_relay(card, issued_ca):
    boot, summary = card
    c = boot / "congress"
    assert summary["site"] == "gw-1" and summary["verified"]
    assert set(summary["private_keys_on_card"]) == {f"congress/keys/{k}" for k in ("site.key", "signing.key",
                                                                                   "broker.key")}
    assert (c / "keys/site.key").read_bytes() == (issued_ca / "sites/gw-1/key.pem").read_bytes()
    conf = (c / "mosquitto/mosquitto.conf").read_text().splitlines()
    for line in ("connection gw-1", "address congress.example.vn:8883", "cleansession false",
                 "bridge_certfile /etc/mosquitto/congress/site.pem", "autosave_on_changes true"):
        assert line in conf, line
    gw = tomllib.loads((c / "gateway.toml").read_text())
    assert gw["broker"]["host"] == "localhost" and gw["broker"]["key_file"].endswith("keys/site.key")
    assert gw["keypads"]["port"] == "/dev/congress-base"
    assert "pattern read congress/congress-2026/site/gw-1/link" in (c / "mosquitto/congress.acl").read_text()
    assert b"congress-gateway.service" in (c / "firstboot.sh").read_bytes()


def test_gateway_card_refuses_a_wrong_site_and_missing_central(tmp_path, issued_ca, capsys):
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(GATEWAY.replace('id = "gw-1"', 'id = "gw-2"'))
    boot = tmp_path / "boot"
    boot.mkdir()
    assert main(["flash", "--boot-dir", str(boot), "--site", "gw-1", "--config", str(cfg),
                 "--ca-dir", str(issued_ca)]) != 0
    assert "--central" in capsys.readouterr().err


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("systemd-sysusers") is None or shutil.which("systemctl") is None,
    reason="the first-boot script creates users and chowns files: needs root and systemd tools",
)


@needs_root
def test_gateway_first_boot_installs_broker_keys_and_service(card, tmp_path):
    boot, _ = card
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    env = {**os.environ, "CONGRESS_FIRSTBOOT_ROOT": str(root)}
    proc = subprocess.run(["sh", str(boot / "congress" / "firstboot.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for path, mode in (("etc/mosquitto/congress/broker.key", 0o640),
                       ("etc/mosquitto/congress/site.key", 0o640),
                       ("var/lib/congress-edge/keys/site.key", 0o600),
                       ("var/lib/congress-edge/keys/signing.key", 0o600)):
        assert stat.S_IMODE((root / path).stat().st_mode) == mode, path
    assert "connection gw-1" in (root / "etc/mosquitto/mosquitto.conf").read_text()
    assert (root / "etc/congress/gateway.toml").is_file()
    assert list((root / "etc/systemd/system").rglob("congress-gateway.service"))
    assert not (boot / "congress" / "keys").exists()  # the private keys are off the card
