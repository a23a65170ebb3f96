"""Every ``user-data`` that `congress flash` can write passes cloud-init's own schema check.

The checker is Debian's ``cloud-init`` package (``cloud-init schema -c FILE``; `make setup` installs
it through scripts/setup-system.sh). Raspberry Pi OS trixie images run cloud-init 25.x; bookworm's is
22.4, whose schema is the stricter of the two (``users: []`` is "too short" there), so passing here
covers both.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from flash import firstboot_formats as fb
from flash.settings import HostSettings, Wifi

from .images import TRIXIE_BOOT, build_image, mread
from .test_flash import base_args, flash

pytestmark = pytest.mark.skipif(
    shutil.which("cloud-init") is None,
    reason="cloud-init's schema checker is not installed (Debian package cloud-init, setup-system.sh)",
)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5Zm9vYmFyYmF6cXV4cXV1eHh5enp6enp6 tech@laptop"
WIFI = Wifi(ssid='Hội trường "A" #1: café', psk_hex="ab" * 32, country="VN")


def check_schema(user_data: bytes, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "user-data"
    path.write_bytes(user_data)
    return subprocess.run(["cloud-init", "schema", "-c", str(path)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("host", [
    HostSettings("door-north-1"),
    HostSettings("door-north-1", wifi=WIFI),
    HostSettings("door-north-1", ssh_keys=(KEY,)),
    HostSettings("door-2", admin_user="kythuat", ssh_keys=(KEY, KEY.replace("tech@laptop", "a: b # c")),
                 wifi=WIFI),
], ids=["no-key", "no-key-wifi", "key", "two-keys-wifi"])
@pytest.mark.parametrize("mount", ["/boot/firmware", "/boot"])
def test_every_user_data_variant_is_valid_cloud_config(tmp_path, host, mount):
    files = fb.cloud_init(host, mount, "congress-door-1-0123")
    result = check_schema(files["user-data"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout


def test_the_checker_refuses_what_flash_used_to_write(tmp_path):
    """The check can fail: the former no-key user-data (``users: []``) is refused by this checker."""
    old = fb.cloud_init(HostSettings("door-north-1"), "/boot/firmware", "x")["user-data"]
    old = old.replace(b"enable_ssh: false\n", b"enable_ssh: false\nusers: []\n")
    result = check_schema(old, tmp_path)
    if result.returncode == 0:
        pytest.skip("this cloud-init (23.2 or later) accepts an empty users list")
    assert "users" in result.stdout + result.stderr


def test_flash_without_ssh_key_writes_valid_user_data(tmp_path, capsys, issued_ca, unit_config):
    image = build_image(tmp_path / "trixie.img", TRIXIE_BOOT)
    code, _, err = flash(capsys, *base_args(image, issued_ca, unit_config))
    assert code == 0, err
    user_data = mread(image, "user-data")
    assert b"users:" not in user_data and b"enable_ssh: false" in user_data
    result = check_schema(user_data, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
