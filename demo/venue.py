"""The demo venue on disk: CA and certificates, configurations, keys, roster and door playlists.

:func:`prepare` builds everything in one work folder the way a technician would (``congress ca init``,
``issue-unit``, ``issue-client``, TOML configurations validated by the same models the programs use),
so the running parts read real files. Nothing here starts a process.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from congress import pki
from congress.broker import free_port
from congress.config import load_config
from congress.config.controller import ControllerConfig
from congress.config.edge import EdgeConfig
from congress.files import write_private
from demo.photos import Person
from flash import toml_out

VENUE_ID = "demo-congress"
DOORS = ("door-1", "door-2")  # the doors of a one-site venue; with sites, door-1 and one door per site
#: The door that runs the attendant lane (``[door] mode = "attendant"``): an arrival it recognises with a
#: score between ``attendant_score`` (0.46, the default) and ``min_score`` waits for staff on the lane
#: page. At the default ``min_score`` (0.56) hardly any photo of the demo set falls in between, so this
#: door, where staff stand anyway, is set stricter: about one arrival in six waits for them.
ATTENDANT_DOOR = "door-2"
ATTENDANT_MIN_SCORE = 0.66


def site_id(n: int) -> str:
    return f"site-{n}"


@dataclass
class Venue:
    """Paths and settings of a prepared demo venue."""

    root: Path
    ca_dir: Path
    controller_config: Path
    door_configs: dict[str, Path]
    roster: Path
    people: list[Person]
    keypads: int
    broker_port: int
    #: door id -> delegate ids whose arrival photos its camera replays, in order.
    arrivals: dict[str, list[str]] = field(default_factory=dict)
    #: satellite site id -> the port of its own broker, bridged to the central one (docs/multi-site.md).
    site_ports: dict[str, int] = field(default_factory=dict)
    #: door id -> the site it stands at (absent: the central venue).
    door_sites: dict[str, str] = field(default_factory=dict)

    @property
    def doors(self) -> tuple[str, ...]:
        return tuple(self.door_configs)

    @property
    def keys_file(self) -> Path:
        return self.root / "keypads.json"

    @property
    def base_station_link(self) -> Path:
        return self.root / "base-station.tty"

    def controller(self) -> ControllerConfig:
        return load_config(self.controller_config, ControllerConfig)

    def door(self, unit_id: str) -> EdgeConfig:
        return load_config(self.door_configs[unit_id], EdgeConfig)


def delegate_id(i: int) -> str:
    return f"D{i + 1:04d}"


def seat(i: int) -> str:
    return f"S{i + 1:04d}"


def _write_toml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(toml_out.dumps(data), encoding="utf-8")
    return path


def _controller_config(root: Path, ca: Path, broker_port: int, web_port: int, keypads: int) -> Path:
    from congress.keypads.keystore import KeyStore

    cert, key = pki.issue_client(ca, "controller")
    keys = KeyStore.generate(range(1, keypads + 1)).save(root / "keypads.json")
    return _write_toml(root / "controller.toml", {
        "venue": {"id": VENUE_ID, "name": "Demo Congress"},
        "database": {"url": f"sqlite:///{root / 'controller.storage.database'}"},
        "broker": {"host": "localhost", "port": broker_port, "ca_file": str(ca / "ca.pem"),
                   "cert_file": str(cert), "key_file": str(key)},
        # Plain HTTP on the loopback interface only; a venue serves the page over TLS.
        "web": {"host": "127.0.0.1", "port": web_port},
        # The delegates' tablets on their own port (the tablet front), plain HTTP on loopback too.
        "portal": {"enabled": True, "host": "127.0.0.1", "port": free_port()},
        "security": {"secure_cookies": False},
        "attendance": {"quorum": "two-thirds"},
        # The simulated base station's pty is reached through this link, as a USB one through udev's.
        "keypads": {"port": str(root / "base-station.tty"), "keys_file": str(keys), "retry_s": 0.2},
        "ca_dir": str(ca),
        "data_dir": str(root / "controller-data"),
    })


def _door_config(root: Path, ca: Path, unit_id: str, door: str, broker_port: int, playlist: Path,
                 site: str | None = None) -> Path:
    attendant = unit_id == ATTENDANT_DOOR
    creds = pki.issue_unit(ca, unit_id, site=site)
    data = root / unit_id
    data.mkdir(parents=True, exist_ok=True)
    # The unit's issued gallery key (the controller seals its gallery to gallery.pub), as on a flashed card.
    write_private(data / "gallery.key", creds.gallery_key.read_text())
    return _write_toml(root / f"{unit_id}.toml", {
        "venue": {"id": VENUE_ID},
        "unit": {"id": unit_id, "data_dir": str(data), "signing_key_file": str(creds.signing_key),
                 "controller_key_file": str(creds.controller_pub)},
        "broker": {"host": "localhost", "port": broker_port, "ca_file": str(creds.ca_cert),
                   "cert_file": str(creds.cert), "key_file": str(creds.key)},
        # Replayed still photos cannot blink or turn their head: liveness is off for the demo doors
        # only (a real door keeps it on). Everything else is the door unit's normal configuration.
        "door": {"id": door, "liveness": False, "mode": "attendant" if attendant else "face"},
        # Upright (portrait) frames, as a camera at a door frames a standing person.
        "camera": {"type": "replay", "path": str(playlist), "hold_frames": 4, "loop": False, "fps": 10.0,
                   "width": 480, "height": 640},
        "feedback": {"pin_factory": "mock"},
        **({"recognition": {"min_score": ATTENDANT_MIN_SCORE}} if attendant else {}),
    })


def _site_of(i: int, sites: int) -> str:
    """Delegate ``i``'s site: with sites, every (sites+1)-th delegate attends the central venue."""
    return "" if not sites or i % (sites + 1) == 0 else site_id(i % (sites + 1))


def _roster(root: Path, people: list[Person], sites: int = 0) -> Path:
    path = root / "roster.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "delegation", "seat", "photo", "consent", "summoned", "site"])
        for i, p in enumerate(people):
            w.writerow([delegate_id(i), p.name, f"Delegation {i % 7 + 1}", seat(i),
                        "|".join(str(x) for x in p.enroll), "yes", "yes", _site_of(i, sites)])
    return path


def _playlists(
    root: Path, people: list[Person], arriving: int, hold: int, doors: dict[str, str | None], sites: int
) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """Split the first ``arriving`` people between the doors (with sites: the door of their own site);
    each arrival shows all their photos."""
    lists: dict[str, list[str]] = {d: [] for d in doors}
    lines: dict[str, list[str]] = {d: [] for d in doors}
    central = [d for d, site in doors.items() if site is None]
    for i, p in enumerate(people[:arriving]):
        site = _site_of(i, sites)
        door = next(d for d, s in doors.items() if s == site) if site else central[i % len(central)]
        lists[door].append(delegate_id(i))
        lines[door] += [f"{shot} {hold}" for shot in p.arrive]
    paths = {}
    for door in doors:
        paths[door] = root / f"{door}.playlist"
        paths[door].write_text("# demo arrivals: image, frames to hold\n" + "\n".join(lines[door]) + "\n")
    return paths, lists


def prepare(root: Path, people: list[Person], *, arriving: int, keypads: int = 200, hold: int = 4,
            sites: int = 0) -> Venue:
    """Create the venue in ``root`` (which must be empty or absent); each arrival photo is shown to the
    door camera for ``hold`` frames (10 frames per second). With ``sites``, that many satellite sites
    (``site-1``...), each with its own broker and one door, and delegates spread over them and the
    central venue."""
    root.mkdir(parents=True, exist_ok=True)
    ca = root / "ca"
    pki.init_ca(ca, VENUE_ID)
    site_ports = {}
    for n in range(1, sites + 1):
        pki.issue_site(ca, site_id(n))
        site_ports[site_id(n)] = free_port()
    broker_port = free_port()
    cfg = _controller_config(root, ca, broker_port, free_port(), keypads)
    door_sites: dict[str, str | None] = dict.fromkeys(DOORS) if not sites else {
        "door-1": None, **{f"door-{site_id(n)}": site_id(n) for n in range(1, sites + 1)}}
    playlists, arrivals = _playlists(root, people, arriving, hold, door_sites, sites)
    doors = {u: _door_config(root, ca, u, f"entrance-{n}", site_ports.get(site, broker_port), playlists[u],
                             site) for n, (u, site) in enumerate(door_sites.items(), 1)}
    venue = Venue(root, ca, cfg, doors, _roster(root, people, sites), people, keypads, broker_port, arrivals,
                  site_ports, {u: s for u, s in door_sites.items() if s})
    venue.controller()  # validate now: a bad file is the demo's bug, not the user's
    for u in venue.doors:
        venue.door(u)
    return venue
