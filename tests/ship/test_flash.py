"""`congress flash` on real FAT32 disk images (cloud-init and firstrun.sh images), checked with mtools."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tomllib

import pytest

from congress.cli import main
from congress.config import parse_config
from congress.config.edge import EdgeConfig
from congress.errors import ProtocolError

from .images import (
    BOOKWORM_BOOT,
    BULLSEYE_BOOT,
    TRIXIE_BOOT,
    build_image,
    mlist,
    mread,
    write_mbr,
)

PASSPHRASE = "correct horse battery staple"


def flash(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(["flash", *args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


@pytest.fixture
def extras(tmp_path):
    psk = tmp_path / "wifi.psk"
    psk.write_text(PASSPHRASE + "\n")
    ssh = tmp_path / "id_ed25519.pub"
    ssh.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5Zm9vYmFyYmF6cXV4cXV1eHh5enp6enp6 tech@laptop\n")
    return ["--wifi-ssid", "Congress Hall", "--wifi-psk-file", str(psk), "--wifi-country", "GB",
            "--ssh-key", str(ssh)]


def base_args(image, issued_ca, unit_config, unit="door-1"):
    return ["--image", str(image), "--unit", unit, "--config", str(unit_config), "--ca-dir", str(issued_ca)]


def test_cloud_init_image_gets_everything_and_reads_back(
    tmp_path, capsys, issued_ca, unit_config, extras
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    code, summary, err = flash(capsys, *base_args(image, issued_ca, unit_config), *extras)
    assert code == 0, err
    assert summary["format"] == "cloud-init" and summary["verified"] is True
    assert summary["partition"] == 1 and summary["offset"] == 2048 * 512
    # Independent check with mtools: every reported file is there with the reported hash.
    for f in summary["files"]:
        assert hashlib.sha256(mread(image, f["path"])).hexdigest() == f["sha256"], f["path"]
    unit_dir = issued_ca / "units" / "door-1"
    assert mread(image, "congress/keys/tls.key") == (unit_dir / "key.pem").read_bytes()
    assert mread(image, "congress/keys/signing.key") == (unit_dir / "signing.key").read_bytes()
    assert mread(image, "congress/unit.pem") == (unit_dir / "cert.pem").read_bytes()
    assert mread(image, "congress/ca.pem") == (issued_ca / "ca.pem").read_bytes()
    assert mread(image, "congress/keys/gallery-key") == (unit_dir / "gallery.key").read_bytes()
    user_data = mread(image, "user-data").decode()
    assert user_data.startswith("#cloud-config\n")
    assert '"/boot/firmware/congress/firstboot.sh"' in user_data
    assert "ssh-ed25519 AAAAC3" in user_data and "lock_passwd: true" in user_data
    net = mread(image, "network-config").decode()
    psk = hashlib.pbkdf2_hmac("sha1", PASSPHRASE.encode(), b"Congress Hall", 4096, 32).hex()
    assert '"password": ' not in net and f'password: "{psk}"' in net and '"Congress Hall":' in net
    assert "congress-door-1-" in mread(image, "meta-data").decode()
    # The Wi-Fi passphrase itself is nowhere in the image; the untouched files are still there.
    assert PASSPHRASE.encode() not in image.read_bytes()
    assert mread(image, "config.txt") == TRIXIE_BOOT["config.txt"]
    assert mread(image, "cmdline.txt") == TRIXIE_BOOT["cmdline.txt"]
    assert "firstrun.sh" not in mlist(image)


def test_config_on_card_points_at_installed_paths(
    tmp_path, capsys, issued_ca, unit_config
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    code, summary, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 0, err
    data = tomllib.loads(mread(image, "congress/edge.toml").decode())
    cfg = parse_config(data, EdgeConfig)
    assert str(cfg.broker.key_file) == "/var/lib/congress-edge/keys/tls.key"
    assert str(cfg.unit.signing_key_file) == "/var/lib/congress-edge/keys/signing.key"
    assert str(cfg.broker.ca_file) == "/etc/congress/ca.pem"
    assert str(cfg.unit.controller_key_file) == "/etc/congress/controller-signing.pub"
    assert str(cfg.recognition.models_dir) == "/opt/congress/models"
    assert cfg.door.id == "north-1" and cfg.camera.type == "picamera2" and cfg.camera.width == 1280
    assert any("broker.key_file" in n for n in summary["config_changes"])
    manifest = mread(image, "congress/manifest.sha256").decode().splitlines()
    names = {line.split("  ", 1)[1] for line in manifest}
    assert {"edge.toml", "keys/tls.key", "firstboot.sh", "systemd/congress-edge.service",
            "models/manifest.json", "models/dlib_resnet_int8.tflite"} <= names
    from congress.faces.manifest import models_dir

    model = models_dir() / "blazeface_short_range.tflite"
    assert mread(image, "congress/models/blazeface_short_range.tflite") == model.read_bytes()


@pytest.mark.parametrize(("boot", "mount"), [(BULLSEYE_BOOT, "/boot"), (BOOKWORM_BOOT, "/boot/firmware")])
def test_firstrun_image_gets_script_and_cmdline(
    tmp_path, capsys, issued_ca, unit_config, extras, boot, mount
):
    image = build_image(tmp_path / "old.img", boot)
    args = base_args(image, issued_ca, unit_config)
    code, summary, err = flash(capsys, *args, *extras)
    assert code == 0, err
    assert summary["format"] == "firstrun" and summary["boot_mount"] == mount
    cmdline = mread(image, "cmdline.txt").decode()
    assert cmdline.count("\n") == 1 and cmdline.startswith(boot["cmdline.txt"].decode().strip())
    assert f"systemd.run={mount}/firstrun.sh systemd.run_success_action=reboot" in cmdline
    assert "cfg80211.ieee80211_regdom=GB" in cmdline
    script = mread(image, "firstrun.sh")
    assert 'sh "$BOOT/congress/firstboot.sh"' in script.decode() and b"BOOT=" + mount.encode() in script
    subprocess.run(["bash", "-n"], input=script, check=True)
    assert "user-data" not in mlist(image)
    # Flashing again replaces our cmdline entry instead of piling up a second one.
    code, _, err = flash(capsys, *args, *extras)
    assert code == 0, err
    again = mread(image, "cmdline.txt").decode()
    assert again.count("systemd.run=") == 1 and again.count("regdom") == 1


def test_firstboot_script_is_valid_shell():
    from flash import payload

    subprocess.run(["sh", "-n", str(payload.Path(payload.__file__).parent / "firstboot.sh")], check=True)


def test_not_a_disk_image(
    tmp_path, capsys, issued_ca, unit_config
):
    image = tmp_path / "random.img"
    image.write_bytes(b"\x13" * 4096)
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 1 and "no MBR partition table" in err


def test_image_without_fat_partition(
    tmp_path, capsys, issued_ca, unit_config
):
    image = tmp_path / "linux-only.img"
    image.write_bytes(b"\0" * (4 * 1024 * 1024))
    write_mbr(image, [(0x83, 2048, 4096)])
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 1 and "no FAT boot partition" in err and "type 0x83" in err


def test_truncated_and_unformatted_images(
    tmp_path, capsys, issued_ca, unit_config
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    data = image.read_bytes()
    short = tmp_path / "short.img"
    short.write_bytes(data[: 20 * 1024 * 1024])
    code, _, err = flash(capsys, *base_args(short, issued_ca, unit_config))
    assert code == 1 and "truncated" in err
    blank = tmp_path / "blank.img"
    blank.write_bytes(data[:512] + b"\0" * (len(data) - 512))
    code, _, err = flash(capsys, *base_args(blank, issued_ca, unit_config))
    assert code == 1 and "holds no FAT file system" in err


def test_fat_partition_that_is_not_a_pi_boot_partition(
    tmp_path, capsys, issued_ca, unit_config
):
    image = build_image(tmp_path / "usbstick.img", {"photos/a.jpg": b"\xff\xd8"})
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 1 and "not a Raspberry Pi OS boot partition" in err


def test_invalid_config_is_rejected_before_writing(
    tmp_path, capsys, issued_ca, unit_config
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    unit_config.write_text(unit_config.read_text() + "\n[feedbak]\ngreen_pin = 5\n")
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 2 and "feedbak: unknown key" in err
    assert "congress/" not in mlist(image)


def test_config_of_another_unit(
    tmp_path, capsys, issued_ca, unit_config
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    unit_config.write_text(unit_config.read_text().replace('id = "door-1"', 'id = "door-2"'))
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 1 and "unit.id is 'door-2'" in err


@pytest.mark.parametrize(("unit", "message"), [("door-5", "issue-unit door-5"), ("door-9", "revoked")])
def test_unit_not_issued_or_revoked(
    tmp_path, capsys, issued_ca, unit_config, unit, message
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    unit_config.write_text(unit_config.read_text().replace('id = "door-1"', f'id = "{unit}"'))
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config, unit=unit))
    assert code == 1 and message in err
    assert "congress/" not in mlist(image)


def test_bad_host_settings(
    tmp_path, capsys, issued_ca, unit_config
):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    args = base_args(image, issued_ca, unit_config)
    short = tmp_path / "short.psk"
    short.write_text("abc\n")
    wifi = ["--wifi-ssid", "Hall", "--wifi-psk-file", str(short)]
    code, _, err = flash(capsys, *args, *wifi, "--wifi-country", "GB")
    assert code == 1 and "8 to 63" in err
    code, _, err = flash(capsys, *args, *wifi)
    assert code == 1 and "--wifi-country is required" in err
    private = tmp_path / "id_ed25519"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n")
    code, _, err = flash(capsys, *args, "--ssh-key", str(private))
    assert code == 1 and "private SSH key" in err


def test_card_gallery_key_opens_the_gallery_sealed_to_the_unit(tmp_path, capsys, issued_ca, unit_config):
    """The card carries the unit's issued X25519 gallery key: a gallery the controller seals to
    units/door-1/gallery.pub opens with it, and the card of door-1 cannot open door-7's."""
    import numpy as np

    from congress import gallery_crypto, gallery_keys, pki

    pki.issue_unit(issued_ca, "door-7")
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    code, summary, err = flash(capsys, "--image", str(image), "--unit", "door-1", "--config",
                               str(unit_config), "--ca-dir", str(issued_ca))
    assert code == 0, err
    assert summary["gallery_key"] == "issued"
    key = gallery_keys.parse_key(mread(image, "congress/keys/gallery-key").decode(), "card")
    units = issued_ca / "units"
    emb = np.eye(2, 128, dtype=np.float32)
    plain = gallery_crypto.encode(["D-1", "D-2"], emb)
    for_1 = gallery_crypto.seal_parts(gallery_keys.read_public(units / "door-1" / "gallery.pub"),
                                      "congress-2026", "door-1", 3, [plain])
    assert gallery_crypto.open_gallery(key, "congress-2026", "door-1", for_1).ids == ("D-1", "D-2")
    for_2 = gallery_crypto.seal_parts(gallery_keys.read_public(units / "door-7" / "gallery.pub"),
                                      "congress-2026", "door-7", 3, [plain])
    with pytest.raises(ProtocolError):
        gallery_crypto.open_gallery(key, "congress-2026", "door-7", for_2)
