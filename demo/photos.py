"""Real face photos for the demo delegates.

The demo looks for the Labeled Faces in the Wild development set (``lfw-dev``: people with five photos
each, ``enroll.csv`` + ``probes.csv``) in ``$CONGRESS_DEMO_FACES`` or ``<repo>/../shared/data/faces``,
else for the photos of :mod:`demo.registry_faces` (fetched once with ``--fetch-faces``). Each
person's first photo that passes the enrollment quality rule is enrolled on the controller; the others
are what the door cameras see on arrival. No photo is copied into the repository.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from congress.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Person:
    """One demo delegate's photos: ``enroll`` go to the controller, ``arrive`` to a door camera."""

    identity: str
    enroll: tuple[Path, ...]
    arrive: tuple[Path, ...]

    @property
    def name(self) -> str:
        return self.identity.replace("_", " ")


def faces_dir() -> Path | None:
    """The face photo folder: ``$CONGRESS_DEMO_FACES`` if set, else ``<repo>/../shared/data/faces``."""
    env = os.environ.get("CONGRESS_DEMO_FACES")
    candidates = [Path(env)] if env else [REPO.parent / "shared" / "data" / "faces"]
    for c in candidates:
        if (c / "lfw-dev" / "enroll.csv").is_file():
            return c.resolve()
    return None


def _read(csv_path: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = defaultdict(list)
    with csv_path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["identity"]].append(csv_path.parent / row["path"])
    return out


def lfw_candidates(root: Path) -> list[tuple[str, list[Path]]]:
    """Every person of ``root/lfw-dev`` with all their photos (enrollment photo first)."""
    lfw = root / "lfw-dev"
    enroll, probes = _read(lfw / "enroll.csv"), _read(lfw / "probes.csv")
    out = []
    for identity in sorted(enroll):
        shots = [p for p in enroll[identity] + probes.get(identity, []) if p.is_file()]
        if len(shots) >= 2:
            out.append((identity, shots))
    return out


def choose(candidates, count: int, accept: Callable[[Path], bool], *, arrivals: int = 2) -> list[Person]:
    """``count`` people: each enrolls with their first photo ``accept`` takes, arrives with others.

    ``accept`` is the controller's own enrollment quality rule (one face, large enough), so the demo
    only seats delegates whose photos a technician would have accepted.
    """
    people = []
    count = min(count, len(candidates))
    for identity, shots in candidates:
        good = next((p for p in shots if accept(p)), None)
        if good is None:
            continue
        # A person with a single usable photo arrives with that same photo (the registry fallback).
        rest = [p for p in shots if p != good][:arrivals] or [good]
        people.append(Person(identity, (good,), tuple(rest)))
        if len(people) == count:
            return people
    raise ConfigError(f"the photo set has only {len(people)} usable people; the demo needs {count}",
                      hint="ask for fewer delegates (--delegates)")


def photo_source() -> str:
    """Where the demo's delegate photos come from, in words for the banner."""

    root = faces_dir()
    if root is not None:
        return f"Labeled Faces in the Wild dev set ({root / 'lfw-dev'})"
    return ("the face_recognition 1.3.0 source package from PyPI (its example photos of 2 people, MIT); "
            "no registry package carries licensed photos of 40 or more people: docs/benchmarks.md, "
            "'Demo photos from registry packages'")


def demo_candidates() -> list[tuple[str, list[Path]]]:
    """The candidate delegates: the lfw-dev set when present, else the registry package's photos."""
    from demo import registry_faces

    root = faces_dir()
    if root is not None:
        return lfw_candidates(root)
    fallback = registry_faces.candidates()
    if fallback is not None:
        return fallback
    raise ConfigError(
        "no face photos for the demo: set CONGRESS_DEMO_FACES to a folder holding lfw-dev/ "
        "(enroll.csv, probes.csv, images/), put the shared data set beside the repository "
        "(../shared/data/faces), or run `congress demo --fetch-faces` once (real photos of two people "
        "from the face_recognition source package on PyPI)",
        hint="the photos are never copied into the repository and the demo downloads nothing by itself",
    )
