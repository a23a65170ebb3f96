"""``models/manifest.json``: which model files exist, and a sha256 check before any is loaded.

A door unit must not run a model that differs from the one measured here, so loading reads the file,
compares its sha256 with the manifest and names the file and the fix when they differ.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from congress.errors import ModelError


def _bundled_models() -> Path:
    """The ``models`` package's folder: in the wheel (site-packages) or in a checkout."""
    spec = importlib.util.find_spec("models")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "models"


#: The bundled ``models`` package (installed with the wheel); ``CONGRESS_MODELS_DIR`` overrides it.
DEFAULT_MODELS_DIR = _bundled_models()
REBUILD_HINT = "restore it from the release (git checkout models/) or rebuild: python -m models.builder"


def models_dir(path: Path | str | None = None) -> Path:
    """The models folder: ``path``, else ``$CONGRESS_MODELS_DIR``, else the bundled ``models/``."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("CONGRESS_MODELS_DIR") or DEFAULT_MODELS_DIR)


@dataclass(frozen=True)
class ModelEntry:
    file: str
    sha256: str
    entry: dict


class Manifest:
    """The parsed manifest of one models folder."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = models_dir(directory)
        path = self.directory / "manifest.json"
        try:
            data = json.loads(path.read_text())
            self.entries = {e["file"]: ModelEntry(e["file"], e["sha256"], e) for e in data["models"]}
        except FileNotFoundError as exc:
            raise ModelError(f"model manifest {path} is missing", hint=REBUILD_HINT) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model manifest {path} is not valid: {exc}", hint=REBUILD_HINT) from exc

    def read(self, name: str) -> bytes:
        """The verified bytes of model file ``name``."""
        entry = self.entries.get(name)
        if entry is None:
            raise ModelError(f"model {name} is not listed in {self.directory / 'manifest.json'}",
                             hint=REBUILD_HINT)
        path = self.directory / name
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise ModelError(f"model file {path} is missing", hint=REBUILD_HINT) from exc
        digest = hashlib.sha256(content).hexdigest()
        if digest != entry.sha256:
            raise ModelError(
                f"model file {path} is corrupt or was changed: sha256 {digest[:12]}… "
                f"but the manifest says {entry.sha256[:12]}…",
                hint=REBUILD_HINT,
            )
        return content
