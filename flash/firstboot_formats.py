"""The two ways a Raspberry Pi OS image runs something on its first boot, and how to tell them apart.

* **cloud-init** (Raspberry Pi OS from the Trixie images on, and Bookworm images that carry the NoCloud
  seed): ``user-data``, ``network-config`` and ``meta-data`` sit on the boot partition. We write our
  ``user-data`` (host name, technician with SSH keys, ``runcmd`` running ``congress/firstboot.sh``),
  a netplan ``network-config`` when Wi-Fi is given, and a new ``meta-data`` instance id so cloud-init
  runs again on a re-flashed card.
* **firstrun.sh** (older images): ``cmdline.txt`` gets ``systemd.run=<boot>/firstrun.sh`` so systemd
  runs the script once, which sets host name, user and Wi-Fi, runs ``congress/firstboot.sh``, removes
  itself and its ``cmdline.txt`` entry and reboots.

YAML is written with every string JSON-quoted (JSON strings are valid YAML), so no YAML library is
needed and no value can break the document. Every ``user-data`` this module can write passes
cloud-init's own schema check (``cloud-init schema``; ``tests/ship/test_cloud_init_schema.py``).
"""

from __future__ import annotations

import json
import re
import shlex
import uuid
from enum import StrEnum

from congress.errors import FlashError
from flash.settings import HostSettings

CLOUD_INIT_FILES = ("user-data", "meta-data", "network-config")


class BootFormat(StrEnum):
    """How the image runs first-boot provisioning."""

    CLOUD_INIT = "cloud-init"
    FIRSTRUN = "firstrun"


def detect(listing: set[str]) -> BootFormat:
    """Pick the format from the top-level files of the boot partition."""
    top = {n.rstrip("/").lower() for n in listing if "/" not in n.rstrip("/")}
    if "cmdline.txt" not in top or "config.txt" not in top:
        raise FlashError(
            "the FAT partition has no cmdline.txt/config.txt: it is not a Raspberry Pi OS boot partition",
            hint="use an official Raspberry Pi OS image (or pass the boot partition's mount point)",
        )
    if top & set(CLOUD_INIT_FILES):
        return BootFormat.CLOUD_INIT
    return BootFormat.FIRSTRUN


def boot_mount(listing: set[str], fmt: BootFormat) -> str:
    """Where the running system mounts the boot partition: /boot/firmware since Bookworm, else /boot."""
    top = {n.lower() for n in listing}
    if fmt is BootFormat.CLOUD_INIT or any(n.startswith("bcm2712") for n in top):
        return "/boot/firmware"
    return "/boot"


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def cloud_init(host: HostSettings, mount: str, instance: str) -> dict[str, bytes]:
    """``user-data``, ``meta-data`` and (with Wi-Fi) ``network-config``."""
    lines = [
        "#cloud-config",
        f"# Door unit {host.hostname} of Digital Congress, written by `congress flash`.",
        f"hostname: {_q(host.hostname)}",
        "manage_etc_hosts: true",
        "ssh_pwauth: false",
    ]
    if host.ssh_keys:
        lines += [
            "enable_ssh: true",
            "users:",
            f"  - name: {_q(host.admin_user)}",
            '    groups: "sudo,video,gpio,adm"',
            '    shell: "/bin/bash"',
            "    lock_passwd: true",
            '    sudo: "ALL=(ALL) NOPASSWD:ALL"',
            "    ssh_authorized_keys:",
            *[f"      - {_q(k)}" for k in host.ssh_keys],
        ]
    else:
        # No technician account. cloud-init before 23.2 (Debian bookworm's 22.4) rejects ``users: []``
        # in its schema ("is too short"), so the key is left out: the image's own default applies.
        lines += ["enable_ssh: false"]
    lines += ["runcmd:", f"  - [\"sh\", {_q(mount + '/congress/firstboot.sh')}]"]
    files = {
        "user-data": "\n".join(lines) + "\n",
        "meta-data": f"instance-id: {_q(instance)}\nlocal-hostname: {_q(host.hostname)}\n",
    }
    if host.wifi:
        w = host.wifi
        files["network-config"] = "\n".join([
            "network:",
            "  version: 2",
            "  ethernets:",
            "    eth0:",
            "      dhcp4: true",
            "      optional: true",
            "  wifis:",
            "    wlan0:",
            "      dhcp4: true",
            "      optional: true",
            f"      regulatory-domain: {_q(w.country)}",
            "      access-points:",
            f"        {_q(w.ssid)}:",
            f"          password: {_q(w.psk_hex)}",
        ]) + "\n"
    return {k: v.encode() for k, v in files.items()}


_RUN_ARGS = re.compile(r"\s*\b(systemd\.run\S*|systemd\.unit=kernel-command-line\.target)")


def cmdline_with_firstrun(cmdline: bytes, mount: str, country: str | None) -> bytes:
    """``cmdline.txt`` (one line) with our ``systemd.run=`` and, for Wi-Fi, the regulatory domain."""
    text = cmdline.decode("utf-8", errors="strict").strip()
    if not text or "\n" in text:
        raise FlashError("cmdline.txt must hold exactly one line of kernel parameters; it is damaged")
    text = _RUN_ARGS.sub("", text)
    if country:
        text = re.sub(r"\s*cfg80211\.ieee80211_regdom=\S+", "", text)
        text += f" cfg80211.ieee80211_regdom={country}"
    text += (f" systemd.run={mount}/firstrun.sh systemd.run_success_action=reboot"
             " systemd.unit=kernel-command-line.target")
    return (text + "\n").encode()


def firstrun(host: HostSettings, mount: str) -> bytes:
    """The ``firstrun.sh`` that systemd runs once through ``systemd.run=``."""
    q = shlex.quote
    out = [
        "#!/bin/bash",
        f"# First boot of door unit {host.hostname} of Digital Congress, written by `congress flash`.",
        "# Run once by systemd (systemd.run= in cmdline.txt); removes itself and that entry, then reboots.",
        "set +e",
        f"BOOT={q(mount)}",
        f"NEW_HOST={q(host.hostname)}",
        'OLD_HOST=$(tr -d " \\t\\n\\r" < /etc/hostname)',
        'echo "$NEW_HOST" > /etc/hostname',
        'sed -i "s/127\\.0\\.1\\.1.*$OLD_HOST/127.0.1.1\\t$NEW_HOST/g" /etc/hosts',
    ]
    if host.ssh_keys:
        keys = "\n".join(host.ssh_keys) + "\n"
        out += [
            f"ADMIN={q(host.admin_user)}",
            "if [ -x /usr/lib/userconf-pi/userconf ]; then /usr/lib/userconf-pi/userconf \"$ADMIN\" '!'; fi",
            'id "$ADMIN" >/dev/null 2>&1 || useradd -m -s /bin/bash "$ADMIN"',
            'usermod -aG sudo,video,gpio,adm "$ADMIN"; passwd -l "$ADMIN"',
            'HOME_DIR=$(getent passwd "$ADMIN" | cut -d: -f6)',
            'install -d -m 0700 -o "$ADMIN" -g "$ADMIN" "$HOME_DIR/.ssh"',
            f'printf %s {q(keys)} > "$HOME_DIR/.ssh/authorized_keys"',
            'chown "$ADMIN:$ADMIN" "$HOME_DIR/.ssh/authorized_keys"',
            'chmod 0600 "$HOME_DIR/.ssh/authorized_keys"',
            'echo "$ADMIN ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/010_congress-admin',
            "chmod 0440 /etc/sudoers.d/010_congress-admin",
            "sed -i 's/^#\\?PasswordAuthentication.*/PasswordAuthentication no/' /etc/ssh/sshd_config",
            "systemctl enable ssh",
        ]
    if host.wifi:
        w = host.wifi
        nm = (
            f"[connection]\nid=congress-wifi\nuuid={uuid.uuid4()}\ntype=wifi\nautoconnect=true\n\n"
            f"[wifi]\nmode=infrastructure\nssid={w.ssid}\n\n[wifi-security]\nkey-mgmt=wpa-psk\n"
            f"psk={w.psk_hex}\n\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n"
        )
        wpa = (
            f"country={w.country}\nctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\n"
            f"update_config=1\n\nnetwork={{\n\tssid={json.dumps(w.ssid)}\n\tpsk={w.psk_hex}\n}}\n"
        )
        out += [
            "if [ -d /etc/NetworkManager/system-connections ]; then",
            "  umask 077",
            f"  printf %s {q(nm)} > /etc/NetworkManager/system-connections/congress-wifi.nmconnection",
            "else",
            "  umask 077",
            f"  printf %s {q(wpa)} > /etc/wpa_supplicant/wpa_supplicant.conf",
            "fi",
            "umask 022",
            "rfkill unblock wifi 2>/dev/null",
            "for f in /var/lib/systemd/rfkill/*:wlan; do [ -e \"$f\" ] && echo 0 > \"$f\"; done",
        ]
    out += [
        'sh "$BOOT/congress/firstboot.sh" || echo "congress firstboot failed; see the journal" >&2',
        'rm -f "$BOOT/firstrun.sh"',
        "sed -i 's| systemd.run.*||g' \"$BOOT/cmdline.txt\"",
        "exit 0",
    ]
    return ("\n".join(out) + "\n").encode()
