"""systemd units (verified by systemd-analyze), sysusers/tmpfiles, and the venue Mosquitto configuration
(rendered by congress.broker, started for real with a unit certificate and refused without one)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from congress.broker import free_port, render_acl
from congress.errors import BrokerError
from flash.venue_broker import venue_conf

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
UNITS = ("congress-edge.service", "congress-controller.service")
VENV_CONGRESS = Path(sys.executable).parent / "congress"
needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")


def unit_options(name: str) -> dict[str, list[str]]:
    """``{"Section.Key": [values...]}`` of a unit file (keys may repeat)."""
    out: dict[str, list[str]] = {}
    section = ""
    for line in (SYSTEMD / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key}", []).append(value)
    return out


def local_copy(tmp_path: Path, name: str, binary: Path) -> Path:
    """The unit with its installed program path replaced by ``binary`` (verify checks ExecStart exists)."""
    text = (SYSTEMD / name).read_text().replace("/opt/congress/venv/bin/congress", str(binary))
    dst = tmp_path / name
    dst.write_text(text)
    return dst


@needs_analyze
@pytest.mark.parametrize("name", UNITS)
def test_units_pass_systemd_analyze_verify(tmp_path, name):
    unit = local_copy(tmp_path, name, VENV_CONGRESS)
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    mine = [line for line in proc.stderr.splitlines() if name in line]
    assert not mine, "\n".join(mine)


@needs_analyze
@pytest.mark.parametrize("name", UNITS)
def test_units_exposure_is_low(tmp_path, name):
    unit = local_copy(tmp_path, name, VENV_CONGRESS)
    proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=25", str(unit)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    level = float(proc.stdout.split("Overall exposure level for")[1].split(":")[1].split()[0])
    assert level <= 2.5, proc.stdout[-3000:]


@needs_analyze
def test_mosquitto_drop_in_waits_for_time_sync(tmp_path):
    # verify the drop-in together with a minimal broker unit of the same name (as Debian ships one).
    unit_dir = tmp_path / "mosquitto.service.d"
    unit_dir.mkdir()
    drop_in = SYSTEMD / "mosquitto/mosquitto.service.d/congress.conf"
    (unit_dir / "congress.conf").write_text(drop_in.read_text())
    (tmp_path / "mosquitto.service").write_text("[Service]\nExecStart=/usr/sbin/mosquitto -c /dev/null\n")
    proc = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "mosquitto.service")],
                          capture_output=True, text=True, timeout=60)
    # verify reads drop-ins beside the unit; a bad key there is only a warning naming the file.
    assert proc.returncode == 0 and "congress.conf" not in proc.stderr, proc.stderr
    text = (unit_dir / "congress.conf").read_text()
    assert "After=network-online.target time-sync.target" in text and "Restart=on-failure" in text


@needs_analyze
def test_verify_fails_for_a_missing_program(tmp_path):
    # Why the tests verify a copy: on a machine without /opt/congress, verify refuses the unit.
    unit = local_copy(tmp_path, UNITS[0], tmp_path / "no-such-program")
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "is not executable" in proc.stderr


@pytest.mark.parametrize("name", UNITS)
def test_units_are_hardened_and_supervised(name):
    o = unit_options(name)
    for key, value in {
        "Service.Restart": "on-failure", "Service.NoNewPrivileges": "yes",
        "Service.ProtectSystem": "strict", "Service.ProtectHome": "yes", "Service.PrivateTmp": "yes",
        "Service.DevicePolicy": "closed", "Service.CapabilityBoundingSet": "",
        "Service.RestrictSUIDSGID": "yes", "Service.UMask": "0077", "Service.MemoryDenyWriteExecute": "yes",
    }.items():
        assert o.get(key) == [value], key
    # both ping the watchdog: the door unit (edge.main.run), the controller (controller.systemd.Notifier)
    assert o["Service.Type"] == ["notify"] and int(o["Service.WatchdogSec"][0]) > 0
    assert o["Service.NotifyAccess"] == ["main"]
    assert "time-sync.target" in o["Unit.After"][0] and "time-sync.target" in o["Unit.Wants"][0]
    assert o["Service.StateDirectory"] and o["Service.User"][0].startswith("congress-")
    assert o["Service.LoadCredential"]
    assert not any(v.startswith("root") for v in o["Service.User"])


def test_edge_unit_reaches_camera_gpio_and_its_data():
    o = unit_options("congress-edge.service")
    allowed = " ".join(o["Service.DeviceAllow"])
    for dev in ("char-video4linux", "char-media", "char-dma_heap", "char-vchiq", "char-gpiochip",
                "/dev/gpiomem"):  # the RPi.GPIO and native pin factories of a Pi 4 map /dev/gpiomem
        assert dev in allowed
    assert set(o["Service.SupplementaryGroups"][0].split()) >= {"video", "gpio"}
    assert o["Service.StateDirectory"] == ["congress-edge"]
    # The keys the first-boot script installs live in the state directory the service may write.
    assert any("/var/lib/congress-edge/keys/" in v for v in o["Service.LoadCredential"])
    assert "--config /etc/congress/edge.toml" in o["Service.ExecStart"][0]


def test_edge_unit_works_in_a_directory_it_owns():
    o = unit_options("congress-edge.service")
    # systemd starts a service in / without WorkingDirectory=, and / is read-only (ProtectSystem=strict).
    assert o.get("Service.WorkingDirectory") == ["/var/lib/congress-edge"]
    assert o["Service.StateDirectory"] == ["congress-edge"]  # created and owned for the service user


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_lgpio_loads_as_the_service_user_in_its_working_directory():
    """gpiozero's lgpio factory imports lgpio, which opens a notification pipe in the current directory."""
    if importlib.util.find_spec("lgpio") is None:
        pytest.skip("lgpio is not installed (its wheels exist for x86_64 CPython 3.11/3.12)")
    o = unit_options("congress-edge.service")
    cwd = o.get("Service.WorkingDirectory", ["/"])[0]
    # The unit's directories under a scratch root the user can traverse: / belongs to root, the state
    # directory to the service user (nobody stands in for congress-edge).
    with tempfile.TemporaryDirectory(prefix="congress-unit-root-") as scratch:
        root = Path(scratch)
        root.chmod(0o755)
        _run_lgpio_import(o, root, cwd)


def _run_lgpio_import(o: dict, root: Path, cwd: str) -> None:
    for state in o["Service.StateDirectory"]:
        d = root / "var/lib" / state
        d.mkdir(parents=True)
        os.chown(d, 65534, 65534)
        d.chmod(int(o["Service.StateDirectoryMode"][0], 8))
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", "import lgpio"],
        cwd=root / cwd.lstrip("/"), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert any(p.name.startswith(".lgd-nfy") for p in (root / cwd.lstrip("/")).iterdir())


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("systemd-sysusers") is None, reason="needs root and systemd-sysusers"
)


@needs_root
def test_sysusers_and_tmpfiles_create_users_and_private_dirs(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    subprocess.run(["systemd-sysusers", f"--root={root}", str(SYSTEMD / "sysusers.d/congress.conf")],
                   check=True, capture_output=True)
    tmpfiles = str(SYSTEMD / "tmpfiles.d/congress.conf")
    subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create", tmpfiles], check=True,
                   capture_output=True)
    passwd = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}
    assert passwd["congress-edge"][6] == "/usr/sbin/nologin"
    group = {line.split(":")[0]: line.split(":")[3] for line in (root / "etc/group").read_text().splitlines()}
    assert "congress-edge" in group["gpio"].split(",") and "congress-edge" in group["video"].split(",")
    for d, owner in (("var/lib/congress-edge/keys", "congress-edge"), ("etc/congress/credentials", "root")):
        st = (root / d).stat()
        assert stat.S_IMODE(st.st_mode) == 0o700, d
        assert st.st_uid == (int(passwd[owner][2]) if owner in passwd else 0), d


def test_committed_broker_files_come_from_the_renderer():
    assert (SYSTEMD / "mosquitto/congress.conf").read_text() == venue_conf()
    assert (SYSTEMD / "mosquitto/congress.acl").read_text() == render_acl("example-venue")
    lines = set((SYSTEMD / "mosquitto/congress.conf").read_text().splitlines())
    for line in ("require_certificate true", "use_identity_as_username true", "allow_anonymous false",
                 "persistence true", "crlfile /etc/mosquitto/congress/crl.pem"):
        assert line in lines


@pytest.mark.skipif(not Path("/usr/sbin/mosquitto").exists(), reason="mosquitto is not installed")
def test_venue_broker_config_runs_and_requires_certificates(tmp_path, issued_ca, capsys):
    from congress.cli import main
    from congress.mqtt import connect, make_client

    out = tmp_path / "etc-mosquitto"
    assert main(["venue", "broker-files", "--ca-dir", str(issued_ca), "--host", "localhost",
                 "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert stat.S_IMODE((out / "congress/broker.key").stat().st_mode) == 0o600
    assert "congress/congress-2026/unit/%u/checkin" in (out / "congress/congress.acl").read_text()
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    conf = (out / "mosquitto.conf").read_text()
    conf = (conf.replace("/etc/mosquitto/congress", str(out / "congress"))
            .replace("/var/lib/mosquitto", str(data))
            .replace("listener 8883 0.0.0.0", f"listener {port} 127.0.0.1")
            .replace("user mosquitto", f"user {os.environ.get('USER') or 'root'}"))
    (tmp_path / "test.conf").write_text(conf)
    log = (tmp_path / "mosquitto.log").open("wb")
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(tmp_path / "test.conf")], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "broker did not open its port"
                time.sleep(0.05)
        unit = issued_ca / "units/door-1"
        client = make_client(client_id="door-1", ca_file=issued_ca / "ca.pem", cert_file=unit / "cert.pem",
                             key_file=unit / "key.pem")
        connect(client, "localhost", port)
        info = client.publish("congress/congress-2026/unit/door-1/status", b"{}", qos=1)
        info.wait_for_publish(10)
        assert info.is_published()
        client.disconnect()
        client.loop_stop()
        anonymous = make_client(client_id="nobody", ca_file=issued_ca / "ca.pem", cert_file=None,
                                key_file=None)
        with pytest.raises(BrokerError):
            connect(anonymous, "localhost", port, timeout=5)
        revoked = issued_ca / "units/door-9"
        bad = make_client(client_id="door-9", ca_file=issued_ca / "ca.pem", cert_file=revoked / "cert.pem",
                          key_file=revoked / "key.pem")
        with pytest.raises(BrokerError, match=r"(?i)revoked"):
            connect(bad, "localhost", port, timeout=5)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
