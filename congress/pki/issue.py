"""Issuing certificates: the broker's server certificate, door units (with their Ed25519 signing
key pair) and other clients such as the controller."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from congress.config.common import check_identifier
from congress.errors import PKIError
from congress.gallery_keys import write_unit_keys
from congress.pki.authority import (
    BACKDATE,
    LEAF_DAYS,
    _active,
    _load_ca,
    _locked,
    _now,
    _require_ca,
    _revoke_locked,
    _revoke_serial,
    _write_index,
    read_index,
    venue_of,
)
from congress.pki.keys import key_pem, load_public_key, pub_pem, write_private, write_public

#: Certificate kinds whose CN is an MQTT user name: one name space (the broker ACL keys on the name).
MQTT_NAME_KINDS = frozenset({"unit", "client", "site"})
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
    gallery_key: Path  # X25519 private key sealing this unit's gallery (congress.gallery_keys)
    gallery_pub: Path


def _issue(ca_dir: Path, kind: str, name: str, sub: Path, *, server: bool, sans: list,
           extra: dict | None = None) -> x509.Certificate:
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
    write_private(sub / "key.pem", key_pem(key))
    write_public(sub / "cert.pem", cert.public_bytes(serialization.Encoding.PEM))
    index = read_index(ca_dir)
    index["certs"].append(
        {
            "serial": format(cert.serial_number, "x"),
            "kind": kind,
            "name": name,
            "not_after": cert.not_valid_after_utc.isoformat(),
            "revoked": None,
            **(extra or {}),
        }
    )
    _write_index(ca_dir, index)
    return cert


def _check_new_name(ca_dir: Path, kind: str, name: str, reissue: bool) -> None:
    try:
        check_identifier(name, f"{kind} name")
    except ValueError as exc:
        raise PKIError(str(exc)) from None
    index = read_index(ca_dir)
    for other in sorted(MQTT_NAME_KINDS - {kind}):
        if _active(index, other, name):
            raise PKIError(
                f"{name!r} is already a {other}; units, sites and clients share the MQTT user name space",
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


def issue_unit(ca_dir: str | os.PathLike, unit_id: str, *, reissue: bool = False,
               site: str | None = None) -> UnitCredentials:
    """Issue a door unit's TLS client certificate (CN = unit id) and its Ed25519 signing key pair.

    ``site``: the satellite site the unit stands at (``congress ca issue-site`` first); the index
    records it, and the controller sends the unit's gallery and commands through that site's bridge.
    """
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    sub = ca_dir / "units" / unit_id
    with _locked(ca_dir):
        if site is not None and not _active(read_index(ca_dir), "site", site):
            raise PKIError(f"site {site!r} has no valid certificate",
                           hint=f"issue it first with `congress ca issue-site {site}`")
        _check_new_name(ca_dir, "unit", unit_id, reissue)
        _issue(ca_dir, "unit", unit_id, sub, server=False, sans=[], extra={"site": site} if site else None)
        signer = ed25519.Ed25519PrivateKey.generate()
        write_private(sub / "signing.key", key_pem(signer))
        write_public(sub / "signing.pub", pub_pem(signer.public_key()))
        write_unit_keys(sub)
    return unit_credentials(ca_dir, unit_id)


def unit_credentials(ca_dir: str | os.PathLike, unit_id: str) -> UnitCredentials:
    """Paths of an already issued unit's credentials."""
    ca_dir = Path(ca_dir)
    sub = ca_dir / "units" / unit_id
    if not (sub / "cert.pem").is_file():
        raise PKIError(f"unit {unit_id!r} has no certificate in {ca_dir}",
                       hint=f"issue one with `congress ca issue-unit {unit_id}`")
    return UnitCredentials(unit_id, sub / "cert.pem", sub / "key.pem", sub / "signing.key",
                           sub / "signing.pub", ca_dir / "ca.pem", ca_dir / "controller-signing.pub",
                           sub / "gallery.key", sub / "gallery.pub")


def issue_client(ca_dir: str | os.PathLike, name: str, *, reissue: bool = False) -> tuple[Path, Path]:
    """Issue a TLS client certificate (CN = name) for the controller or a tool."""
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    sub = ca_dir / "clients" / name
    with _locked(ca_dir):
        _check_new_name(ca_dir, "client", name, reissue)
        _issue(ca_dir, "client", name, sub, server=False, sans=[])
    return sub / "cert.pem", sub / "key.pem"


def unit_signing_keys(ca_dir: str | os.PathLike) -> dict[str, ed25519.Ed25519PublicKey]:
    """Public signing keys of every unit with a valid (not revoked) certificate, by unit id."""
    ca_dir = Path(ca_dir)
    keys = {}
    for c in read_index(ca_dir)["certs"]:
        if c["kind"] == "unit" and not c["revoked"]:
            keys[c["name"]] = load_public_key(ca_dir / "units" / c["name"] / "signing.pub")
    return keys
