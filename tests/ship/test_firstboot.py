"""`congress flash --boot-dir` on a mounted card, then the first-boot script run for real in a root folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from congress.cli import main
from congress.errors import FlashError
from flash.bootfs import DirPartition
from flash.provision import verify

from .images import TRIXIE_BOOT


@pytest.fixture
def boot_dir(tmp_path):
    root = tmp_path / "bootfs"
    for name, data in TRIXIE_BOOT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def flash_dir(capsys, boot_dir, issued_ca, unit_config) -> dict:
    code = main(["flash", "--boot-dir", str(boot_dir), "--unit", "door-1", "--config", str(unit_config),
                 "--ca-dir", str(issued_ca), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_boot_dir_is_written_and_verified(capsys, boot_dir, issued_ca, unit_config):
    summary = flash_dir(capsys, boot_dir, issued_ca, unit_config)
    assert summary["boot_dir"] == str(boot_dir) and summary["format"] == "cloud-init"
    assert (boot_dir / "congress" / "keys" / "tls.key").read_bytes() == (
        issued_ca / "units" / "door-1" / "key.pem"
    ).read_bytes()
    assert "congress/keys/signing.key" in summary["private_keys_on_card"]
    note = " ".join((boot_dir / "congress" / "README-KEYS.txt").read_text().split())
    assert "A FAT file system has no file permissions" in note and "congress ca revoke" in note


def test_read_back_catches_a_changed_file(boot_dir):
    fs = DirPartition(boot_dir)
    fs.write_many({"congress/a.txt": b"one"})
    with pytest.raises(FlashError, match="differs on the card"):
        verify(fs, {"congress/a.txt": b"two"})
    with pytest.raises(FlashError, match="not on the card"):
        verify(fs, {"congress/b.txt": b"two"})


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("systemd-sysusers") is None or shutil.which("systemctl") is None,
    reason="the first-boot script creates users and chowns files: needs root and systemd tools",
)


@needs_root
def test_first_boot_moves_keys_and_enables_the_service(
    tmp_path, capsys, boot_dir, issued_ca, unit_config
):
    flash_dir(capsys, boot_dir, issued_ca, unit_config)
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    env = {**os.environ, "CONGRESS_FIRSTBOOT_ROOT": str(root)}
    proc = subprocess.run(["sh", str(boot_dir / "congress" / "firstboot.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    keys = root / "var/lib/congress-edge/keys"
    uid = int(next(line.split(":")[2] for line in (root / "etc/passwd").read_text().splitlines()
                   if line.startswith("congress-edge:")))
    for name in ("tls.key", "signing.key", "gallery-key"):
        st = (keys / name).stat()
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == uid, name
        assert not (boot_dir / "congress" / "keys" / name).exists(), f"{name} still on the card"
    assert (keys / "tls.key").read_bytes() == (issued_ca / "units/door-1/key.pem").read_bytes()
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert (root / "etc/congress/edge.toml").read_bytes() == (boot_dir / "congress/edge.toml").read_bytes()
    assert stat.S_IMODE((root / "etc/congress/edge.toml").stat().st_mode) == 0o640
    assert (root / "etc/systemd/system/multi-user.target.wants/congress-edge.service").is_symlink()
    assert (root / "var/lib/congress-edge/provisioned").is_file()
    assert (root / "opt/congress/models/manifest.json").read_bytes() == (
        boot_dir / "congress/models/manifest.json").read_bytes()
    # A second run does nothing (cloud-init may run runcmd again after a re-seed).
    again = subprocess.run(["sh", str(boot_dir / "congress" / "firstboot.sh")], env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0 and "already provisioned" in again.stderr


@needs_root
def test_installed_unit_identity_works_against_the_venue_broker(
    tmp_path, capsys, boot_dir, issued_ca, unit_config, monkeypatch
):
    """Issue -> card -> first boot -> the installed files: the unit connects and its keys are its own."""
    import tomllib

    from congress import mqtt, pki
    from congress.broker import Mosquitto
    from congress.config import parse_config
    from congress.config.edge import EdgeConfig
    from edge.main import gallery_key

    code = main(["flash", "--boot-dir", str(boot_dir), "--unit", "door-1", "--config", str(unit_config),
                 "--ca-dir", str(issued_ca), "--json"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    proc = subprocess.run(["sh", str(boot_dir / "congress" / "firstboot.sh")], capture_output=True, text=True,
                          env={**os.environ, "CONGRESS_FIRSTBOOT_ROOT": str(root)}, timeout=60)
    assert proc.returncode == 0, proc.stderr

    def inroot(p) -> str:
        return str(root / str(p).lstrip("/"))

    cfg = parse_config(tomllib.loads((root / "etc/congress/edge.toml").read_text()), EdgeConfig)
    signer = pki.load_signing_key(inroot(cfg.unit.signing_key_file))
    issued = pki.load_public_key(issued_ca / "units/door-1/signing.pub")
    assert signer.public_key().public_bytes_raw() == issued.public_bytes_raw()
    # The service gets its secrets from LoadCredential=; the keys folder is that source.
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", inroot(cfg.unit.data_dir / "keys"))
    assert gallery_key(cfg) == bytes.fromhex((root / "var/lib/congress-edge/keys/gallery-key").read_text())
    with Mosquitto.from_ca(issued_ca) as broker:
        b = cfg.broker
        client = mqtt.make_client(client_id="door-1", ca_file=inroot(b.ca_file),
                                  cert_file=inroot(b.cert_file), key_file=inroot(b.key_file))
        mqtt.connect(client, "localhost", broker.port)
        try:
            info = client.publish("congress/congress-2026/unit/door-1/status", b"{}", qos=1)
            info.wait_for_publish(10)
            assert info.is_published()
        finally:
            client.disconnect()
            client.loop_stop()


@needs_root
def test_first_boot_refuses_a_damaged_card(
    tmp_path, capsys, boot_dir, issued_ca, unit_config
):
    flash_dir(capsys, boot_dir, issued_ca, unit_config)
    cfg = boot_dir / "congress" / "edge.toml"
    cfg.write_bytes(cfg.read_bytes().replace(b"north-1", b"north-X"))
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    proc = subprocess.run(["sh", str(boot_dir / "congress" / "firstboot.sh")],
                          env={**os.environ, "CONGRESS_FIRSTBOOT_ROOT": str(root)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "damaged" in proc.stderr
    assert not (root / "var/lib/congress-edge").exists()
    assert (boot_dir / "congress" / "keys" / "tls.key").exists()


def run_firstboot(boot_dir, root, *, path_dir=None, timeout=60) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONGRESS_FIRSTBOOT_ROOT": str(root)}
    if path_dir is not None:  # stand-in programs first on PATH
        env["PATH"] = f"{path_dir}:{env['PATH']}"
    return subprocess.run(["sh", str(boot_dir / "congress" / "firstboot.sh")], env=env, capture_output=True,
                          text=True, timeout=timeout)


def stand_in(folder, name: str, script: str):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("#!/bin/sh\n" + script)
    (folder / name).chmod(0o755)
    return folder


@needs_root
def test_first_boot_resumes_after_an_interruption(tmp_path, capsys, boot_dir, issued_ca, unit_config):
    """Keys are moved off the card early; a run stopped after that must not fail the card check next time."""
    flash_dir(capsys, boot_dir, issued_ca, unit_config)
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    broken = stand_in(tmp_path / "bin", "systemctl", "echo 'systemctl: power cut' >&2; exit 1\n")
    first = run_firstboot(boot_dir, root, path_dir=broken)
    assert first.returncode != 0 and "power cut" in first.stderr
    assert not (boot_dir / "congress/keys/tls.key").exists()  # moved before the interruption
    assert not (root / "var/lib/congress-edge/provisioned").exists()
    again = run_firstboot(boot_dir, root)
    assert again.returncode == 0, again.stderr
    assert (root / "etc/systemd/system/multi-user.target.wants/congress-edge.service").is_symlink()
    assert (root / "var/lib/congress-edge/keys/tls.key").read_bytes() == (
        issued_ca / "units/door-1/key.pem").read_bytes()
    # A key changed after it was moved is still caught.
    (root / "etc/systemd/system/multi-user.target.wants/congress-edge.service").unlink()
    (root / "var/lib/congress-edge/provisioned").unlink()
    (root / "var/lib/congress-edge/keys/signing.key").write_bytes(b"tampered")
    bad = run_firstboot(boot_dir, root)
    assert bad.returncode == 1 and "differs from the card's manifest" in bad.stderr


@needs_root
def test_a_card_flashed_again_is_provisioned_again(tmp_path, capsys, boot_dir, issued_ca, unit_config):
    flash_dir(capsys, boot_dir, issued_ca, unit_config)
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    assert run_firstboot(boot_dir, root).returncode == 0
    flash_dir(capsys, boot_dir, issued_ca, unit_config)  # the same unit again: the keys are back on the card
    assert (boot_dir / "congress/keys/tls.key").exists()
    again = run_firstboot(boot_dir, root)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" not in again.stderr
    assert not (boot_dir / "congress/keys").exists(), "the keys must not stay on the card"
    third = run_firstboot(boot_dir, root)
    assert third.returncode == 0 and "nothing to do" in third.stderr


def fake_wheelhouse(folder):
    folder.mkdir()
    (folder / "TARGET").write_text("release=trixie\npython=3.13\nmultiarch=aarch64-linux-gnu\n"
                                   "project=digital-congress==0.1.0\napt=python3-venv python3-numpy\n")
    (folder / "digital_congress-0.1.0-py3-none-any.whl").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return folder


@needs_root
@pytest.mark.parametrize(("release", "python", "said"), [
    ("bookworm", "3.11 aarch64-linux-gnu", "numpy 1.24"),
    ("trixie", "3.13 arm-linux-gnueabihf", "32-bit Raspberry Pi OS"),
])
def test_first_boot_refuses_an_image_the_software_is_not_for(
    tmp_path, capsys, boot_dir, issued_ca, unit_config, release, python, said
):
    code = main(["flash", "--boot-dir", str(boot_dir), "--unit", "door-1", "--config", str(unit_config),
                 "--ca-dir", str(issued_ca), "--wheelhouse", str(fake_wheelhouse(tmp_path / "wheels")),
                 "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["wheels"] == 1 and (boot_dir / "congress/wheels/TARGET").is_file()
    root = tmp_path / "pi-root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(f'PRETTY_NAME="Debian"\nVERSION_CODENAME={release}\n')
    system_python = stand_in(tmp_path / "bin", "python3", f"echo '{python}'\n")
    proc = run_firstboot(boot_dir, root, path_dir=system_python)
    assert proc.returncode == 1 and said in proc.stderr, proc.stderr
    assert "flash" in proc.stderr.split("ERROR:")[1]  # what to do
    assert not (root / "var/lib/congress-edge").exists()  # stopped before changing anything
    assert (boot_dir / "congress/keys/tls.key").exists()


def test_flash_refuses_a_folder_that_is_not_a_wheelhouse(tmp_path, capsys, boot_dir, issued_ca, unit_config):
    (tmp_path / "wheels").mkdir()
    code = main(["flash", "--boot-dir", str(boot_dir), "--unit", "door-1", "--config", str(unit_config),
                 "--ca-dir", str(issued_ca), "--wheelhouse", str(tmp_path / "wheels"), "--json"])
    assert code != 0
    assert "not a wheelhouse" in capsys.readouterr().err
