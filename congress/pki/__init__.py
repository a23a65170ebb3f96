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
                                     gallery.key (0600) gallery.pub: X25519 pair the controller
                                     seals this unit's gallery to (congress.gallery_crypto)
    clients/<name>/cert.pem key.pem  other MQTT clients (the controller, tools); CN = name
    sites/<site>/cert.pem key.pem signing.key signing.pub
                                     satellite site: its bridge's and gateway's TLS client certificate
                                     (CN = site id) and the gateway's Ed25519 key (congress.pki.sites)

TLS keys are EC P-256 (what Mosquitto/OpenSSL and every client accept); event signatures are Ed25519.
Private keys are written with mode 0600 before any byte of key material. Mosquitto reads ``crl.pem``
(``crlfile``) and refuses revoked certificates at the TLS handshake.
"""

from congress.pki.authority import init_ca, read_index, revoke, venue_of
from congress.pki.issue import (
    UnitCredentials,
    issue_broker,
    issue_client,
    issue_unit,
    unit_credentials,
    unit_signing_keys,
)
from congress.pki.keys import load_public_key, load_signing_key
from congress.pki.sites import SiteCredentials, issue_site, site_credentials, sites, unit_sites

__all__ = [
    "SiteCredentials",
    "UnitCredentials",
    "init_ca",
    "issue_broker",
    "issue_client",
    "issue_site",
    "issue_unit",
    "load_public_key",
    "load_signing_key",
    "read_index",
    "revoke",
    "site_credentials",
    "sites",
    "unit_credentials",
    "unit_signing_keys",
    "unit_sites",
    "venue_of",
]
