"""What ``congress flash --site SITE`` puts on a satellite site gateway's card.

A site gateway is flashed like a door unit (same card formats, same read-back check, same first-boot
plumbing, :mod:`flash.provision`); its ``congress/`` folder holds instead:

* ``gateway.toml`` — the gateway's configuration (:class:`congress.config.gateway.GatewayConfig`),
  validated and rewritten with the paths first boot installs to, its broker set to the site broker on
  the same machine;
* ``mosquitto/`` — the site broker's configuration with its TLS bridge to ``--central``, its ACL, the
  venue CA, the CRL and the site broker's server certificate for the gateway's host name
  (:func:`flash.site_broker.site_conf`, the text ``congress venue site-files`` writes);
* the site's certificate, the controller's public key and the site's public signing key;
* ``keys/`` — the site broker's TLS key, the site's TLS key (the bridge and the gateway present it) and
  the gateway's signing key, moved off the card by first boot;
* ``firstboot.sh`` (``flash/firstboot-gateway.sh``), the systemd files, the software's wheels with
  ``--wheelhouse``, and ``manifest.sha256``.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

from congress import bridge
from congress.config import parse_config, read_toml
from congress.config.gateway import GatewayConfig
from congress.errors import FlashError, PKIError
from flash import toml_out
from flash.payload import FOLDER, PI_ETC, PI_KEYS, PI_STATE, SYSTEMD_DIR
from flash.site_broker import PORT, site_conf

KEYS_NOTE = """\
Digital Congress site gateway - private keys on this card
==========================================================
The keys/ folder holds the site broker's TLS key, the site's TLS key (the key the site presents to the
central broker) and the gateway's signing key. A FAT file system has no file permissions: until the
gateway's first boot, anyone who reads this card can copy them. Keep the card with you. On first boot
congress/firstboot.sh moves them into /etc/mosquitto/congress and /var/lib/congress-edge/keys and
deletes them from this card. If a card with keys is lost, revoke the site:
    congress ca revoke SITE --site
"""


def config_for(req) -> tuple[bytes, list[str]]:
    """:func:`gateway_config` for a :class:`flash.provision.Request`."""
    return gateway_config(req.config_file, req.unit_id)


def gateway_config(config_file: Path, site: str) -> tuple[bytes, list[str]]:
    """Validate ``config_file`` and return it with the gateway's installed paths, plus what changed."""
    data = read_toml(config_file)
    cfg = parse_config(data, GatewayConfig, source=str(config_file))
    if cfg.site.id != site:
        raise FlashError(f"{config_file}: site.id is {cfg.site.id!r} but the card is for site {site!r}",
                         hint="use the configuration of this site, or the matching --site")
    pins = {
        ("site", "data_dir"): str(PI_STATE / "gateway"),
        ("site", "signing_key_file"): str(PI_KEYS / "signing.key"),
        ("site", "controller_key_file"): str(PI_ETC / "controller-signing.pub"),
        ("broker", "host"): "localhost",
        ("broker", "port"): PORT,
        ("broker", "ca_file"): str(PI_ETC / "ca.pem"),
        ("broker", "cert_file"): str(PI_ETC / "site.pem"),
        ("broker", "key_file"): str(PI_KEYS / "site.key"),
    }
    notes, out = [], {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for (table, key), value in pins.items():
        out.setdefault(table, {})
        old = out[table].get(key)
        if old is not None and str(old) != str(value):
            notes.append(f"{table}.{key}: {old} -> {value} (where first boot installs it)")
        out[table][key] = value
    text = toml_out.dumps(out)
    parse_config(tomllib.loads(text), GatewayConfig, source=f"{config_file} (as written to the card)")
    return text.encode(), notes


def site_files(ca_dir: Path, site: str, host: str, central: str) -> dict[str, bytes]:
    """The site's certificates and keys, and the site broker's tree, from the venue CA folder."""
    from congress import pki

    try:
        venue = pki.venue_of(ca_dir)
        creds = pki.site_credentials(ca_dir, site)
        if site not in pki.sites(ca_dir):
            raise PKIError(f"site {site!r} has been revoked",
                           hint=f"re-issue it: congress ca issue-site {site} --reissue")
        broker = ca_dir / "broker" / host
        if not (broker / "cert.pem").is_file():
            pki.issue_broker(ca_dir, host)
        sources = {
            "ca.pem": creds.ca_cert, "site.pem": creds.cert, "signing.pub": creds.signing_pub,
            "controller-signing.pub": creds.controller_pub, "keys/site.key": creds.key,
            "keys/signing.key": creds.signing_key, "keys/broker.key": broker / "key.pem",
            "mosquitto/ca.pem": creds.ca_cert, "mosquitto/broker.pem": broker / "cert.pem",
            "mosquitto/crl.pem": ca_dir / "crl.pem", "mosquitto/site.pem": creds.cert,
        }
        files = {name: Path(src).read_bytes() for name, src in sources.items()}
    except PKIError as exc:
        raise FlashError(exc.message, hint=exc.hint) from None
    except OSError as exc:
        raise FlashError(f"site {site!r}: cannot read {exc.filename}: {exc.strerror}",
                         hint=f"issue the site again: congress ca issue-site {site} --reissue") from None
    files["mosquitto/mosquitto.conf"] = site_conf(venue, site, central).encode()
    files["mosquitto/congress.acl"] = bridge.render_site_acl(venue, site).encode()
    return files


def build_gateway_payload(files: dict[str, bytes], config: bytes, *,
                          wheelhouse: Path | None = None) -> dict[str, bytes]:
    """Every file of the gateway card's ``congress/`` folder, keyed by its path on the boot partition."""
    files = dict(files)
    files["gateway.toml"] = config
    files["README-KEYS.txt"] = KEYS_NOTE.encode()
    files["firstboot.sh"] = (Path(__file__).parent / "firstboot-gateway.sh").read_bytes()
    for name, src in {"systemd/congress-gateway.service": SYSTEMD_DIR / "congress-gateway.service",
                      "systemd/congress-sysusers.conf": SYSTEMD_DIR / "sysusers.d" / "congress.conf",
                      "systemd/congress-tmpfiles.conf": SYSTEMD_DIR / "tmpfiles.d" / "congress.conf",
                      }.items():
        try:
            files[name] = src.read_bytes()
        except OSError:
            raise FlashError(f"{src} is missing",
                             hint="run congress flash from a checkout of the project") from None
    if wheelhouse is not None:  # the door unit's software (congress venue wheelhouse), installed offline
        from flash import wheelhouse as wh

        try:
            files.update(wh.read(wheelhouse))
        except OSError as exc:
            raise FlashError(f"cannot read the wheelhouse {wheelhouse}: {exc.strerror}") from None
    manifest = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items()))
    files["manifest.sha256"] = manifest.encode()
    return {f"{FOLDER}/{name}": data for name, data in files.items()}
