"""The venue CA itself: creation, the index of issued certificates, revocation and the CRL."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from congress.config.common import check_identifier
from congress.errors import PKIError
from congress.pki.keys import key_pem, pub_pem, write_private, write_public

CA_DAYS = 5 * 365
LEAF_DAYS = 2 * 365
#: Certificates are back-dated: a Raspberry Pi has no real-time clock and may run a little behind.
BACKDATE = dt.timedelta(days=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
        if not (ca_dir / "ca.pem").is_file():
            _require_ca(ca_dir)  # no CA at all: say how to create one
        raise PKIError(f"{ca_dir}/index.json is missing",
                       hint="copy the whole CA directory (index.json, units/, crl.pem), or restore it from "
                       "the CA backup")
    try:
        return json.loads((ca_dir / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PKIError(f"{ca_dir}/index.json is damaged: {exc}",
                       hint="restore it from the CA backup") from None


def _write_index(ca_dir: Path, index: dict) -> None:
    write_public(ca_dir / "index.json", json.dumps(index, indent=1, sort_keys=True).encode())


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
    write_private(ca_dir / "ca.key", key_pem(key))
    write_public(ca_dir / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    signer = ed25519.Ed25519PrivateKey.generate()
    write_private(ca_dir / "controller-signing.key", key_pem(signer))
    write_public(ca_dir / "controller-signing.pub", pub_pem(signer.public_key()))
    _write_index(ca_dir, {"venue": venue_id, "crl_number": 0, "certs": []})
    with _locked(ca_dir):
        _write_crl(ca_dir)
    return ca_dir / "ca.pem"


def _active(index: dict, kind: str, name: str) -> list[dict]:
    return [c for c in index["certs"] if c["kind"] == kind and c["name"] == name and not c["revoked"]]


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
    write_public(ca_dir / "crl.pem", crl.public_bytes(serialization.Encoding.PEM))
    _write_index(ca_dir, index)
