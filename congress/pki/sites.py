"""Satellite site identities: the certificate a site's bridge and gateway present, and its keys.

``congress ca issue-site SITE`` writes ``sites/<site>/``::

    cert.pem key.pem        TLS client certificate, CN = site id: the site broker's bridge presents it
                            to the central broker (whose ACL confines that name to
                            ``congress/<venue>/site/<site>/...``) and the site gateway to its own broker
    signing.key signing.pub Ed25519 key pair the gateway signs its own messages with (keypad frames it
                            forwards, its status), exactly as a door unit signs its check-ins

A site id is an MQTT user name like a unit id or a client name, so the three share one name space.
Door units are placed at a site when they are issued (``congress ca issue-unit door-7 --site SITE``);
the index records it, which is how the controller routes their gallery and commands. The site
broker's own TLS server certificate is an ordinary broker certificate for the gateway's host name
(``congress venue site-files`` issues it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from congress.errors import PKIError
from congress.pki.authority import _active, _locked, _require_ca, read_index
from congress.pki.issue import _check_new_name, _issue
from congress.pki.keys import key_pem, pub_pem, write_private, write_public


@dataclass(frozen=True)
class SiteCredentials:
    """Paths of what a site gateway needs (``congress venue site-files`` copies them)."""

    site: str
    cert: Path
    key: Path
    signing_key: Path
    signing_pub: Path
    ca_cert: Path
    controller_pub: Path


def issue_site(ca_dir: str | os.PathLike, site: str, *, reissue: bool = False) -> SiteCredentials:
    """Issue a site's TLS client certificate (CN = site id) and its Ed25519 signing key pair."""
    ca_dir = Path(ca_dir)
    _require_ca(ca_dir)
    sub = ca_dir / "sites" / site
    with _locked(ca_dir):
        _check_new_name(ca_dir, "site", site, reissue)
        _issue(ca_dir, "site", site, sub, server=False, sans=[])
        signer = ed25519.Ed25519PrivateKey.generate()
        write_private(sub / "signing.key", key_pem(signer))
        write_public(sub / "signing.pub", pub_pem(signer.public_key()))
    return site_credentials(ca_dir, site)


def site_credentials(ca_dir: str | os.PathLike, site: str) -> SiteCredentials:
    """Paths of an already issued site's credentials."""
    ca_dir = Path(ca_dir)
    sub = ca_dir / "sites" / site
    if not (sub / "cert.pem").is_file():
        raise PKIError(f"site {site!r} has no certificate in {ca_dir}",
                       hint=f"issue one with `congress ca issue-site {site}`")
    return SiteCredentials(site, sub / "cert.pem", sub / "key.pem", sub / "signing.key",
                           sub / "signing.pub", ca_dir / "ca.pem", ca_dir / "controller-signing.pub")


def sites(ca_dir: str | os.PathLike) -> list[str]:
    """Ids of every site with a valid certificate, sorted (what the central ACL lists)."""
    index = read_index(ca_dir)
    return sorted({c["name"] for c in index["certs"] if c["kind"] == "site" and not c["revoked"]})


def unit_sites(ca_dir: str | os.PathLike) -> dict[str, str]:
    """The site of every valid unit that was issued for one (units at the central venue are absent)."""
    index = read_index(ca_dir)
    return {c["name"]: c["site"] for c in index["certs"]
            if c["kind"] == "unit" and not c["revoked"] and c.get("site")}


def is_site(ca_dir: str | os.PathLike, name: str) -> bool:
    return bool(_active(read_index(ca_dir), "site", name))
