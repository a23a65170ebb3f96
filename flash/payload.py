"""What ``congress flash`` puts in the ``congress/`` folder of the boot partition.

:func:`build_payload` gathers the unit's credentials from the venue CA folder, validates and rewrites
its configuration so every path points where the first-boot script installs the files, and adds the
first-boot script, the systemd files and a ``manifest.sha256`` that the Pi checks before installing.
Returns ``{path on the boot partition: bytes}``.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from congress.config import parse_config, read_toml
from congress.config.edge import EdgeConfig
from congress.errors import FlashError, PKIError
from flash import toml_out

FOLDER = "congress"
#: Where the first-boot script installs things on the Pi (see flash/firstboot.sh and systemd/).
PI_ETC = Path("/etc/congress")
PI_STATE = Path("/var/lib/congress-edge")
PI_KEYS = PI_STATE / "keys"
PI_MODELS = Path("/opt/congress/models")
#: The systemd files, shipped in the package (``flash/systemd`` links to the checkout's ``systemd/``).
SYSTEMD_DIR = Path(__file__).resolve().parent / "systemd"

KEYS_NOTE = """\
Digital Congress door unit - private keys on this card
=======================================================
The keys/ folder holds the unit's private TLS key, its event-signing key and its gallery key (the only
key that opens the face gallery the controller seals for this unit). A FAT file system has no
file permissions: until the unit's first boot, anyone who reads this card can copy them. Keep the card
with you. On first boot congress/firstboot.sh moves them to /var/lib/congress-edge/keys (mode 0600,
owner congress-edge) and deletes them from this card. If a card with keys is lost, revoke the unit:
    congress ca revoke UNIT_ID
"""


@dataclass(frozen=True)
class UnitFiles:
    """The unit's files read from the venue CA folder."""

    unit_id: str
    files: dict[str, bytes]


def read_unit_files(ca_dir: Path, unit_id: str, *, issue: bool) -> UnitFiles:
    """Read (or with ``issue`` first issue) the unit's certificate and keys from ``ca_dir``."""
    from congress import pki

    try:
        if issue:
            creds = pki.issue_unit(ca_dir, unit_id)
        else:
            creds = pki.unit_credentials(ca_dir, unit_id)
            _check_not_revoked(pki, ca_dir, unit_id, Path(creds.cert))
    except PKIError as exc:
        raise FlashError(str(exc.message), hint=exc.hint) from None
    sources = {
        "ca.pem": creds.ca_cert,
        "unit.pem": creds.cert,
        "signing.pub": creds.signing_pub,
        "controller-signing.pub": creds.controller_pub,
        "keys/tls.key": creds.key,
        "keys/signing.key": creds.signing_key,
        "keys/gallery-key": creds.gallery_key,  # X25519: opens this unit's sealed gallery
    }
    files = {}
    for name, src in sources.items():
        try:
            files[name] = Path(src).read_bytes()
        except OSError as exc:
            raise FlashError(
                f"unit {unit_id!r}: cannot read {src}: {exc.strerror}",
                hint=f"issue the unit again with `congress ca issue-unit {unit_id} --reissue`",
            ) from None
    return UnitFiles(unit_id, files)


def _check_not_revoked(pki, ca_dir: Path, unit_id: str, cert_file: Path) -> None:
    from cryptography import x509

    try:
        serial = format(x509.load_pem_x509_certificate(cert_file.read_bytes()).serial_number, "x")
    except (OSError, ValueError) as exc:
        raise FlashError(f"unit {unit_id!r}: certificate {cert_file} is unreadable: {exc}") from None
    active = {
        c["serial"] for c in pki.read_index(ca_dir)["certs"]
        if c["kind"] == "unit" and c["name"] == unit_id and not c["revoked"]
    }
    if serial not in active:
        raise FlashError(
            f"unit {unit_id!r}: its certificate in {ca_dir} is revoked or unknown to the CA",
            hint=f"issue a new one with `congress ca issue-unit {unit_id} --reissue`",
        )


def unit_config(config_file: Path, unit_id: str) -> tuple[bytes, list[str]]:
    """Validate ``config_file`` and return it as TOML with the Pi's paths, plus notes on what changed."""
    data = read_toml(config_file)
    cfg = parse_config(data, EdgeConfig, source=str(config_file))
    if cfg.unit.id != unit_id:
        raise FlashError(
            f"{config_file}: unit.id is {cfg.unit.id!r} but the card is for unit {unit_id!r}",
            hint="use the configuration of this unit, or the matching --unit",
        )
    pins = {
        ("unit", "data_dir"): str(PI_STATE),
        ("unit", "signing_key_file"): str(PI_KEYS / "signing.key"),
        ("unit", "controller_key_file"): str(PI_ETC / "controller-signing.pub"),
        ("broker", "ca_file"): str(PI_ETC / "ca.pem"),
        ("broker", "cert_file"): str(PI_ETC / "unit.pem"),
        ("broker", "key_file"): str(PI_KEYS / "tls.key"),
        ("recognition", "models_dir"): str(PI_MODELS),
    }
    notes = []
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for (table, key), value in pins.items():
        out.setdefault(table, {})
        old = out[table].get(key)
        if old is not None and str(old) != value:
            notes.append(f"{table}.{key}: {old} -> {value} (where first boot installs it)")
        out[table][key] = value
    text = toml_out.dumps(out)
    if tomllib.loads(text) != out:
        raise FlashError(f"{config_file}: the configuration cannot be written back unchanged")
    parse_config(tomllib.loads(text), EdgeConfig, source=f"{config_file} (as written to the card)")
    return text.encode(), notes


def _systemd_files() -> dict[str, bytes]:
    names = {
        "systemd/congress-edge.service": SYSTEMD_DIR / "congress-edge.service",
        "systemd/congress-sysusers.conf": SYSTEMD_DIR / "sysusers.d" / "congress.conf",
        "systemd/congress-tmpfiles.conf": SYSTEMD_DIR / "tmpfiles.d" / "congress.conf",
    }
    out = {}
    for name, src in names.items():
        try:
            out[name] = src.read_bytes()
        except OSError:
            raise FlashError(
                f"{src} is missing: this installation of the project is incomplete",
                hint="reinstall digital-congress (its wheel carries flash/systemd/)",
            ) from None
    return out


def _model_files() -> dict[str, bytes]:
    """The face models the unit loads: ``manifest.json`` and every file it lists (sha256-checked)."""
    import json

    from congress.faces.manifest import models_dir

    root = models_dir()
    try:
        manifest = (root / "manifest.json").read_bytes()
        files = {"models/manifest.json": manifest}
        for entry in json.loads(manifest)["models"]:
            data = (root / entry["file"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise FlashError(f"model {root / entry['file']} does not match models/manifest.json",
                                 hint="restore the models (git checkout models/) before flashing")
            files[f"models/{entry['file']}"] = data
    except (OSError, ValueError, KeyError) as exc:
        raise FlashError(f"cannot read the face models in {root}: {exc}") from None
    return files


def build_payload(unit: UnitFiles, config: bytes, *, wheelhouse: Path | None = None) -> dict[str, bytes]:
    """Every file of the ``congress/`` folder, keyed by its path on the boot partition.

    With ``wheelhouse`` (made by ``congress venue wheelhouse``) the card carries the software too, and
    first boot installs it offline.
    """
    files = dict(unit.files)
    files["edge.toml"] = config
    files["README-KEYS.txt"] = KEYS_NOTE.encode()
    files["firstboot.sh"] = (Path(__file__).parent / "firstboot.sh").read_bytes()
    files.update(_systemd_files())
    files.update(_model_files())
    if wheelhouse is not None:
        from flash import wheelhouse as wh

        try:
            files.update(wh.read(wheelhouse))
        except OSError as exc:
            raise FlashError(f"cannot read the wheelhouse {wheelhouse}: {exc.strerror}") from None
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    files["manifest.sha256"] = manifest.encode()
    return {f"{FOLDER}/{name}": data for name, data in files.items()}
