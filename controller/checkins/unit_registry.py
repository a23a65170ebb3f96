"""Which door units the controller trusts: their Ed25519 signing keys and who has been revoked.

The source of truth is the venue CA directory written by :mod:`congress.pki` (``index.json`` and
``units/<unit_id>/signing.pub`` and ``gallery.pub``; the controller needs the public parts only, never
``ca.key``). A unit is
*known* while it holds a valid certificate, *revoked* when every certificate issued to it has been
revoked. The index is re-read when its modification time changes, so ``congress ca revoke`` takes effect
in a running controller within :attr:`UnitRegistry.recheck_s` seconds, without a restart.

Constructed by the controller (and the check-in bench) and handed to
:class:`controller.checkins.ingest.Ingest`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from congress import gallery_keys, pki
from congress.errors import ConfigError, PKIError

log = logging.getLogger(__name__)


class UnitTrust(StrEnum):
    """What the controller knows about a unit id."""

    KNOWN = "known"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class UnitRegistry:
    """Thread-safe view of the CA's units; :meth:`key` is what ``congress.wire.verify`` looks keys up in."""

    def __init__(self, ca_dir: str | Path, *, recheck_s: float = 1.0) -> None:
        self.ca_dir = Path(ca_dir)
        self.recheck_s = recheck_s
        self._lock = threading.Lock()
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._gallery: dict[str, bytes] = {}
        self._sites: dict[str, str] = {}
        self._revoked: frozenset[str] = frozenset()
        self._mtime: float | None = None
        self._checked = 0.0
        self._refresh(force=True)

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.recheck_s:
            return
        self._checked = now
        index_path = self.ca_dir / "index.json"
        try:
            mtime = index_path.stat().st_mtime_ns
        except FileNotFoundError:
            raise PKIError(f"no venue CA index at {index_path}",
                           hint="point the controller at the venue CA directory") from None
        if mtime == self._mtime:
            return
        try:  # read directly: pki.read_index insists on ca.key, which a controller should not hold
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PKIError(f"{index_path} cannot be read: {exc}") from None
        keys: dict[str, Ed25519PublicKey] = {}
        gallery: dict[str, bytes] = {}
        sites: dict[str, str] = {}
        seen: set[str] = set()
        for c in index["certs"]:
            if c["kind"] == "site":  # a site gateway signs like a unit (congress.pki.sites)
                seen.add(c["name"])
                if not c["revoked"]:
                    try:
                        pub = self.ca_dir / "sites" / c["name"] / "signing.pub"
                        keys[c["name"]] = pki.load_public_key(pub)
                        sites[c["name"]] = c["name"]
                    except PKIError as exc:
                        log.error("site %s: %s", c["name"], exc)
                continue
            if c["kind"] != "unit":
                continue
            seen.add(c["name"])
            if c.get("site") and not c["revoked"]:
                sites[c["name"]] = c["site"]
            if not c["revoked"]:
                try:
                    keys[c["name"]] = pki.load_public_key(self.ca_dir / "units" / c["name"] / "signing.pub")
                except PKIError as exc:
                    log.error("unit %s: %s", c["name"], exc)
                    continue
                try:
                    gallery[c["name"]] = gallery_keys.read_public(
                        self.ca_dir / "units" / c["name"] / gallery_keys.PUBLIC_FILE)
                except (OSError, ConfigError) as exc:
                    log.error("unit %s has no usable gallery key (%s): it gets no gallery until it is "
                              "re-issued (congress ca issue-unit %s --reissue)", c["name"], exc, c["name"])
        self._keys, self._revoked, self._mtime = keys, frozenset(seen - set(keys)), mtime
        self._gallery, self._sites = gallery, sites
        log.info("unit registry: %d units known, %d revoked", len(keys), len(self._revoked))

    def key(self, unit_id: str) -> Ed25519PublicKey | None:
        """The signing key of a known (not revoked) unit, else None."""
        with self._lock:
            self._refresh()
            return self._keys.get(unit_id)

    def trust(self, unit_id: str) -> UnitTrust:
        with self._lock:
            self._refresh()
            if unit_id in self._keys:
                return UnitTrust.KNOWN
            return UnitTrust.REVOKED if unit_id in self._revoked else UnitTrust.UNKNOWN

    def known_units(self) -> list[str]:
        """Door units with a valid certificate (site gateways sign too, but are not door units)."""
        with self._lock:
            self._refresh()
            return sorted(u for u in self._keys if self._sites.get(u) != u)

    def site_of(self, unit_id: str) -> str | None:
        """The satellite site a unit (or site gateway) stands at, None for the central venue."""
        with self._lock:
            self._refresh()
            return self._sites.get(unit_id)

    def site_gateways(self) -> list[str]:
        """The sites with a valid certificate (each site's gateway signs as the site)."""
        with self._lock:
            self._refresh()
            return sorted(u for u, s in self._sites.items() if u == s)

    def gallery_key(self, unit_id: str) -> bytes | None:
        """The X25519 public key a known unit's gallery is sealed to (``gallery.pub``), else None."""
        with self._lock:
            self._refresh()
            return self._gallery.get(unit_id)

    def revoked_units(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted(self._revoked)
