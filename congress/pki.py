"""Venue PKI: the venue CA, TLS certificates for the broker, door units and clients, revocation.

One directory holds everything (``congress ca init --dir DIR``)::

    ca.pem  ca.key (0600)            venue CA: EC P-256, self-signed, 5 years
    crl.pem                          certificate revocation list (always present, empty at first)
    controller-signing.key/.pub      Ed25519 key the controller signs acks, gallery and commands with
    index.json                       every certificate issued: serial, kind, name, revoked or not
    broker/<host>/cert.pem key.pem   broker server certificate (SAN: host, localhost, 127.0.0.1, ::1)
    units/<unit_id>/cert.pem key.pem signing.key signing.pub
                                     door unit: TLS client certificate (CN = unit id) and its Ed25519
                                     event-signing key pair
    clients/<name>/cert.pem key.pem  other MQTT clients (the controller, tools); CN = name

TLS keys are EC P-256 (what Mosquitto/OpenSSL and every client accept); event signatures are Ed25519.
Private keys are written with mode 0600 before any byte of key material. Mosquitto reads ``crl.pem``
(``crlfile``) and refuses revoked certificates at the TLS handshake.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from congress.config.common import check_identifier
from congress.errors import PKIError

CA_DAYS = 5 * 365
LEAF_DAYS = 2 * 365
#: Certificates are back-dated: a Raspberry Pi has no real-time clock and may run a little behind.
BACKDATE = dt.timedelta(days=1)
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")


@dataclass(frozen=True)
class UnitCredentials:
    """Paths of everything a door unit needs to connect and sign (copy these to the unit)."""

    unit_id: str
    cert: Path
    key: Path
    signing_key: Path
    signing_pub: Path
    ca_cert: Path
    controller_pub: Path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pub_pem(key) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _ca_paths(ca_dir: Path) -> tuple[Path, Path]:
    return ca_dir / "ca.pem", ca_dir / "ca.key"


def _require_ca(ca_dir: Path) -> None:
    if not (ca_dir / "ca.pem").is_file() or not (ca_dir / "ca.key").is_file():
        raise PKIError(
            f"no venue CA in {ca_dir}",
            hint="create one with `congress ca init --dir DIR --venue VENUE_ID`, or pass the right --dir "
            "(or set CONGRESS_CA_DIR)",
        )


def _load_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    _require_ca(ca_dir)
    cert_p, key_p = _ca_paths(ca_dir)
    try:
        cert = x509.load_pem_x509_certificate(cert_p.read_bytes())
        key = serialization.load_pem_private_key(key_p.read_bytes(), password=None)
    except (ValueError, PermissionError) as exc:
        raise PKIError(f"cannot read the venue CA in {ca_dir}: {exc}") from None
    return cert, key


@contextmanager
def _locked(ca_dir: Path):
    """Serialise changes to one CA directory (two terminals issuing at once must not lose a serial)."""
    with open(ca_dir / ".lock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_index(ca_dir: str | os.PathLike) -> dict:
    """The CA's record of what it issued: ``{"venue": id, "certs": [{serial, kind, name, ...}]}``.

    Needs only ``index.json`` (not ``ca.key``), so a controller can read unit keys from a copy of the
    CA directory without the CA's private key."""
    ca_dir = Path(ca_dir)
    if not (ca_dir / "index.json").is_file():
        _require_ca(ca_dir)  # says how to create a CA when there is none
        raise PKIError(f"{ca_dir}/index.json is missing", hint="restore it from the CA backup")
    try:
        return json.loads((ca_dir / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PKIError(f"{ca_dir}/index.json is damaged: {exc}",
                       hint="restore it from the CA backup") from None


def _write_index(ca_dir: Path, index: dict) -> None:
    _write_public(ca_dir / "index.json", json.dumps(index, indent=1, sort_keys=True).encode())


def venue_of(ca_dir: str | os.PathLike) -> str:
    """The venue id this CA was created for."""
    return read_index(ca_dir)["venue"]


def init_ca(ca_dir: str | os.PathLike, venue_id: str) -> Path:
    """Create the venue CA, an empty CRL and the controller signing key in ``ca_dir``; return ca.pem."""
    ca_dir = Path(ca_dir)
    try:
        check_identifier(venue_id, "venue id")
    except ValueError as exc:
        raise PKIError(str(exc)) from None
    if (ca_dir / "ca.key").exists() or (ca_dir / "ca.pem").exists():
        raise PKIError(
            f"a venue CA already exists in {ca_dir}",
            hint="use it, or choose another --dir; deleting a CA invalidates every certificate it issued",
        )
    ca_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(ca_dir, 0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, venue_id),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Digital Congress venue CA {venue_id}"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(ca_dir / "ca.key", _key_pem(key))
    _write_public(ca_dir / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    signer = ed25519.Ed25519PrivateKey.generate()
    _write_private(ca_dir / "controller-signing.key", _key_pem(signer))
    _write_public(ca_dir / "controller-signing.pub", _pub_pem(signer.public_key()))
    _write_index(ca_dir, {"venue": venue_id, "crl_number": 0, "certs": []})
    with _locked(ca_dir):
        _write_crl(ca_dir)
    return ca_dir / "ca.pem"


def _issue(ca_dir: Path, kind: str, name: str, sub: Path, *, server: bool, sans: list) -> x509.Certificate:
    ca_cert, ca_key = _load_ca(ca_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, venue_of(ca_dir)),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, kind),
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + dt.timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_private(sub / "key.pem", _key_pem(key))
    _write_public(sub / "cert.pem", cert.public_bytes(serialization.Encoding.PEM))
    index = read_index(ca_dir)
    index["certs"].append(
        {
            "serial": format(cert.serial_number, "x"),
            "kind": kind,
            "name": name,
            "not_after": cert.not_valid_after_utc.isoformat(),
            "revoked": None,
        }
    )
    _write_index(ca_dir, index)
    return cert


def _active(index: dict, kind: str, name: str) -> list[dict]:
    return [c for c in index["certs"] if c["kind"] == kind and c["name"] == name and not c["revoked"]]


def _check_new_name(ca_dir: Path, kind: str, name: str, reissue: bool) -> None:
    try:
        check_identifier(name, f"{kind} name")
    except ValueError as exc:
        raise PKIError(str(exc)) from None
    index = read_index(ca_dir)
    other = "client" if kind == "unit" else "unit"
    if _active(index, other, name):
        raise PKIError(
            f"{name!r} is already a {other}; units and clients share the MQTT user name space",
            hint="choose another name",
        )
    if _active(index, kind, name):
        if not reissue:
            raise PKIError(
                f"{kind} {name!r} already has a valid certificate",
                hint=f"to replace it, re-issue with --reissue (the old certificate is revoked), "
                f"or revoke it first with `congress ca revoke {name}`",
            )
        _revoke_locked(ca_dir, name, kind)


def issue_broker(ca_dir: str | os.PathLike, host: str) -> tuple[Path, Path]:
    """Issue the broker's server certificate for ``host`` (plus localhost/127.0.0.1/::1)."""
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    sans: list[x509.GeneralName] = []
    try:
        sans.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        if not _HOST.match(host):
            raise PKIError(f"{host!r} is not a host name or IP address") from None
        sans.append(x509.DNSName(host))
    for extra in (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                  x509.IPAddress(ipaddress.ip_address("::1"))):
        if extra not in sans:
            sans.append(extra)
    sub = ca_dir / "broker" / host
    with _locked(ca_dir):
        for c in _active(read_index(ca_dir), "broker", host):
            _revoke_serial(ca_dir, c["serial"])
        _issue(ca_dir, "broker", host, sub, server=True, sans=sans)
    return sub / "cert.pem", sub / "key.pem"


def issue_unit(ca_dir: str | os.PathLike, unit_id: str, *, reissue: bool = False) -> UnitCredentials:
    """Issue a door unit's TLS client certificate (CN = unit id) and its Ed25519 signing key pair."""
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    sub = ca_dir / "units" / unit_id
    with _locked(ca_dir):
        _check_new_name(ca_dir, "unit", unit_id, reissue)
        _issue(ca_dir, "unit", unit_id, sub, server=False, sans=[])
        signer = ed25519.Ed25519PrivateKey.generate()
        _write_private(sub / "signing.key", _key_pem(signer))
        _write_public(sub / "signing.pub", _pub_pem(signer.public_key()))
    return unit_credentials(ca_dir, unit_id)


def unit_credentials(ca_dir: str | os.PathLike, unit_id: str) -> UnitCredentials:
    """Paths of an already issued unit's credentials."""
    ca_dir = Path(ca_dir)
    sub = ca_dir / "units" / unit_id
    if not (sub / "cert.pem").is_file():
        raise PKIError(f"unit {unit_id!r} has no certificate in {ca_dir}",
                       hint=f"issue one with `congress ca issue-unit {unit_id}`")
    return UnitCredentials(unit_id, sub / "cert.pem", sub / "key.pem", sub / "signing.key",
                           sub / "signing.pub", ca_dir / "ca.pem", ca_dir / "controller-signing.pub")


def issue_client(ca_dir: str | os.PathLike, name: str, *, reissue: bool = False) -> tuple[Path, Path]:
    """Issue a TLS client certificate (CN = name) for the controller or a tool."""
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    sub = ca_dir / "clients" / name
    with _locked(ca_dir):
        _check_new_name(ca_dir, "client", name, reissue)
        _issue(ca_dir, "client", name, sub, server=False, sans=[])
    return sub / "cert.pem", sub / "key.pem"


def revoke(ca_dir: str | os.PathLike, unit_id: str, *, kind: str = "unit") -> list[str]:
    """Revoke every valid certificate of unit (or client) ``unit_id``; rewrite ``crl.pem``.

    Returns the revoked serial numbers (hex). The broker must reload the CRL (restart or SIGHUP).
    """
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    with _locked(ca_dir):
        return _revoke_locked(ca_dir, unit_id, kind)


def _revoke_locked(ca_dir: Path, name: str, kind: str) -> list[str]:
    serials = [c["serial"] for c in _active(read_index(ca_dir), kind, name)]
    if not serials:
        raise PKIError(f"{kind} {name!r} has no valid certificate to revoke",
                       hint="see `congress ca list` for what this CA issued")
    for s in serials:
        _revoke_serial(ca_dir, s)
    return serials


def _revoke_serial(ca_dir: Path, serial: str) -> None:
    index = read_index(ca_dir)
    for c in index["certs"]:
        if c["serial"] == serial:
            c["revoked"] = _now().isoformat()
    _write_index(ca_dir, index)
    _write_crl(ca_dir)


def _write_crl(ca_dir: Path) -> None:
    """Re-sign the CRL. It stays valid as long as the CA: it is rewritten on every revocation, and an
    expired CRL would make the broker refuse every device in the middle of a congress."""
    ca_cert, ca_key = _load_ca(ca_dir)
    index = read_index(ca_dir)
    index["crl_number"] = index.get("crl_number", 0) + 1
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - BACKDATE)
        .next_update(ca_cert.not_valid_after_utc)
        .add_extension(x509.CRLNumber(index["crl_number"]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
    )
    for c in index["certs"]:
        if c["revoked"]:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(c["serial"], 16))
                .revocation_date(dt.datetime.fromisoformat(c["revoked"]))
                .build()
            )
    crl = builder.sign(ca_key, hashes.SHA256())
    _write_public(ca_dir / "crl.pem", crl.public_bytes(serialization.Encoding.PEM))
    _write_index(ca_dir, index)


def unit_signing_keys(ca_dir: str | os.PathLike) -> dict[str, ed25519.Ed25519PublicKey]:
    """Public signing keys of every unit with a valid (not revoked) certificate, by unit id."""
    ca_dir = Path(ca_dir)
    keys = {}
    for c in read_index(ca_dir)["certs"]:
        if c["kind"] == "unit" and not c["revoked"]:
            keys[c["name"]] = load_public_key(ca_dir / "units" / c["name"] / "signing.pub")
    return keys


def load_signing_key(path: str | os.PathLike) -> ed25519.Ed25519PrivateKey:
    """Read an Ed25519 private key (PEM) written by this module."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PKIError(f"cannot read signing key {path}: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise PKIError(f"{path} is not an Ed25519 signing key")
    return key


def load_public_key(path: str | os.PathLike) -> ed25519.Ed25519PublicKey:
    """Read an Ed25519 public key (PEM) written by this module."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise PKIError(f"cannot read public key {path}: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise PKIError(f"{path} is not an Ed25519 public key")
    return key
