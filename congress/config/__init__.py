"""Typed configuration: one tree per program, read from TOML and validated at start.

Unknown keys and wrong types are rejected with the dotted name of the key and a hint. Secrets never
live in the TOML file: :func:`read_secret` takes them from systemd's ``$CREDENTIALS_DIRECTORY`` or from
an environment variable.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from congress.errors import ConfigError

M = TypeVar("M", bound="Section")


class Section(BaseModel):
    """Base of every configuration table: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _explain(exc: ValidationError, source: str) -> ConfigError:
    lines = []
    for err in exc.errors():
        key = _dotted(err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check the spelling; see docs/configuration.md)")
        elif err["type"] == "missing":
            lines.append(f"{key}: required key is missing")
        else:
            got = err.get("input")
            shown = repr(got) if not isinstance(got, dict) else "a table"
            lines.append(f"{key}: {err['msg']} (got {shown})")
    return ConfigError(f"{source}: invalid configuration:\n  " + "\n  ".join(lines))


def parse_config(data: dict, model: type[M], *, source: str = "configuration") -> M:
    """Validate an already-parsed mapping against ``model``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, source) from None


def read_toml(path: str | os.PathLike) -> dict:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"configuration file {p} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {p}: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None


def load_config(path: str | os.PathLike, model: type[M]) -> M:
    """Read ``path`` as TOML and validate it against ``model``; raise :class:`ConfigError`."""
    cfg = parse_config(read_toml(path), model, source=str(path))
    base = Path(path).resolve().parent
    resolve = getattr(cfg, "resolve_paths", None)
    return resolve(base) if resolve else cfg


def read_secret(name: str, *, env: str | None = None, required: bool = True) -> str | None:
    """Return the secret ``name`` from ``$CREDENTIALS_DIRECTORY/name`` or the environment variable.

    systemd's ``LoadCredential=`` puts secrets in ``$CREDENTIALS_DIRECTORY``; elsewhere the variable
    ``env`` (default ``CONGRESS_<NAME>``) is used. Trailing newlines are stripped.
    """
    env = env or "CONGRESS_" + name.upper().replace("-", "_").replace(".", "_")
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds:
        f = Path(creds) / name
        if f.is_file():
            return f.read_text(encoding="utf-8").rstrip("\r\n")
    value = os.environ.get(env)
    if value:
        return value
    if required:
        raise ConfigError(
            f"secret {name!r} is not set",
            hint=f"set the environment variable {env} or give it to systemd with LoadCredential={name}:...",
        )
    return None
