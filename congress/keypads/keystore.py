"""Keypad pairing keys: one 128-bit AES key per keypad, kept in a 0600 JSON file.

``congress keypads pair`` writes the file; the controller's reader and the simulator (which plays
the keypads) both load it. The file is written atomically with mode 0600 and refused when it is
readable by group or others, like ssh does with private keys. Keys never appear in logs.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path

from congress.errors import ConfigError
from congress.files import write_private
from congress.keypads.protocol import KEY_LEN, Sealer

FORMAT = "congress-keypad-keys/1"


class KeyStore:
    """Keypad id -> key, with a cache of :class:`Sealer` objects for the hot path."""

    def __init__(self, keys: dict[int, bytes], base_id: int = 1) -> None:
        self.base_id = base_id
        self._keys = dict(keys)
        self._sealers: dict[int, Sealer] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, keypad_id: int) -> bool:
        return keypad_id in self._keys

    def ids(self) -> list[int]:
        return sorted(self._keys)

    def key(self, keypad_id: int) -> bytes:
        return self._keys[keypad_id]

    def sealer(self, keypad_id: int) -> Sealer | None:
        s = self._sealers.get(keypad_id)
        if s is None:
            key = self._keys.get(keypad_id)
            if key is None:
                return None
            s = self._sealers[keypad_id] = Sealer(key)
        return s

    @classmethod
    def generate(cls, keypad_ids, base_id: int = 1) -> KeyStore:
        return cls({int(k): secrets.token_bytes(KEY_LEN) for k in keypad_ids}, base_id)

    def add(self, keypad_id: int) -> bytes:
        """Pair one more keypad (or re-pair: a new key replaces the old one)."""
        key = secrets.token_bytes(KEY_LEN)
        self._keys[keypad_id] = key
        self._sealers.pop(keypad_id, None)
        return key

    def save(self, path: str | os.PathLike) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": FORMAT,
            "base_id": self.base_id,
            "keypads": {str(k): v.hex() for k, v in sorted(self._keys.items())},
        }
        write_private(p, json.dumps(doc, indent=1))
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> KeyStore:
        p = Path(path)
        try:
            st = p.stat()
        except FileNotFoundError:
            raise ConfigError(
                f"keypad key file {p} does not exist", hint="create it with 'congress keypads pair'"
            ) from None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"keypad key file {p} is readable by other users (mode {stat.S_IMODE(st.st_mode):o})",
                hint=f"chmod 600 {p}",
            )
        try:
            doc = json.loads(p.read_text())
            if doc.get("format") != FORMAT:
                raise ValueError(f"format {doc.get('format')!r}")
            keys = {int(k): bytes.fromhex(v) for k, v in doc["keypads"].items()}
            if any(len(v) != KEY_LEN for v in keys.values()):
                raise ValueError("a key is not 128 bits")
            return cls(keys, int(doc.get("base_id", 1)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"keypad key file {p} is not valid: {exc}") from None
