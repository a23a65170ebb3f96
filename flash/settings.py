"""Host settings for the first boot: host name, Wi-Fi and the technician's SSH keys, validated.

The Wi-Fi passphrase never goes on the card: WPA2 derives a 256-bit key from the passphrase and the
SSID (PBKDF2-HMAC-SHA1, 4096 rounds, the same derivation ``wpa_passphrase`` uses), and that 64-hex key
is what cloud-init (netplan), NetworkManager and wpa_supplicant are given.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from congress.errors import FlashError

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")
_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
              "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


@dataclass(frozen=True)
class Wifi:
    """A WPA2 network: SSID, derived 64-hex key and the regulatory country (Wi-Fi is off without it)."""

    ssid: str
    psk_hex: str
    country: str


@dataclass(frozen=True)
class HostSettings:
    """Everything the first boot sets up besides the door-unit files."""

    hostname: str
    admin_user: str = "technician"
    ssh_keys: tuple[str, ...] = field(default_factory=tuple)
    wifi: Wifi | None = None


def wifi_from_files(ssid: str, psk_file: Path, country: str | None) -> Wifi:
    """Validate the SSID, read the passphrase from ``psk_file`` and derive the WPA2 key."""
    raw = ssid.encode()
    if not 1 <= len(raw) <= 32 or any(c < 0x20 or c == 0x7F for c in raw) or '"' in ssid:
        raise FlashError(f"Wi-Fi SSID {ssid!r} is not usable: 1-32 bytes, no control characters or quotes")
    if not country or not _COUNTRY.match(country):
        raise FlashError(
            "--wifi-country is required with --wifi-ssid (two capital letters, e.g. GB, DE, US)",
            hint="Raspberry Pi OS keeps Wi-Fi switched off until the regulatory country is set",
        )
    try:
        passphrase = psk_file.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise FlashError(f"cannot read the Wi-Fi passphrase file {psk_file}: {exc.strerror}") from None
    if re.fullmatch(r"[0-9a-fA-F]{64}", passphrase):
        return Wifi(ssid, passphrase.lower(), country)
    if not 8 <= len(passphrase) <= 63 or not passphrase.isprintable():
        raise FlashError(
            f"{psk_file}: a WPA2 passphrase has 8 to 63 printable characters (or is 64 hex digits)"
        )
    key = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), raw, 4096, 32)
    return Wifi(ssid, key.hex(), country)


def read_ssh_keys(path: Path) -> tuple[str, ...]:
    """Public keys from an ``authorized_keys``-style file; a private key is refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlashError(f"cannot read SSH key file {path}: {exc}") from None
    if "PRIVATE KEY" in text:
        raise FlashError(f"{path} is a private SSH key", hint=f"pass the public key, e.g. {path}.pub")
    keys = tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    bad = [k for k in keys if k.split()[0] not in _KEY_TYPES]
    if not keys or bad:
        raise FlashError(f"{path} holds no SSH public key (expected lines like 'ssh-ed25519 AAAA... name')")
    return keys


def check_admin_user(name: str) -> str:
    if not _USER.match(name) or name in {"root", "congress-edge"}:
        raise FlashError(f"admin user name {name!r} is not allowed (lowercase letters, digits, - or _)")
    return name
