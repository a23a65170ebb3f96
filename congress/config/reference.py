"""Markdown reference of the configuration trees, generated from the typed models themselves.

``congress config reference`` prints it; ``docs/configuration.md`` is its output, so the reference
says exactly what the validator accepts: every table, key, type, default and limit, with the title and
description written next to the field in ``congress/config/``.
"""

from __future__ import annotations

import enum
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from congress.config import Section

INTRO = """# Configuration reference

Each program reads one TOML file, validated at start-up: unknown keys, wrong types and values out of
range are refused with the key's dotted name (`congress config check FILE` checks a file without
starting anything). Relative paths are relative to the file's folder.

Secrets never live in these files. A program reads each secret from systemd's
`$CREDENTIALS_DIRECTORY/<name>` (`LoadCredential=<name>:...`) or else from the environment variable
`CONGRESS_<NAME>` (upper case, `-` becomes `_`): the door unit's `gallery-key` (name set by
`gallery.key_name`), the controller's `audit-key` and `face-key`.

This page is generated from the models by `congress config reference`.
"""

EXAMPLES = {
    "edge": """[venue]
id = "congress-2026"

[unit]
id = "door-1"
signing_key_file = "signing.key"
controller_key_file = "controller-signing.pub"

[broker]
host = "controller.local"
port = 8883
ca_file = "ca.pem"
cert_file = "cert.pem"
key_file = "key.pem"
""",
    "controller": """[venue]
id = "congress-2026"
name = "Annual Congress 2026"

[database]
url = "sqlite:///congress.db"

[broker]
host = "localhost"
port = 8883
ca_file = "ca/ca.pem"
cert_file = "ca/clients/controller/cert.pem"
key_file = "ca/clients/controller/key.pem"
""",
    "gateway": """[venue]
id = "congress-2026"

[site]
id = "hanoi-1"

[broker]
host = "localhost"
port = 8883
ca_file = "ca.pem"
cert_file = "site.pem"
key_file = "site.key"

[keypads]
port = "/dev/congress-base"
""",
}


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in typing.get_args(tp))
    if tp is type(None):
        return "none"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " / ".join(f"`{e.value}`" for e in tp)
    if isinstance(tp, type) and issubclass(tp, Path):
        return "path"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _default(f: FieldInfo) -> str:
    if f.default is PydanticUndefined and f.default_factory is None:
        return "**required**"
    value = f.default if f.default_factory is None else f.default_factory()
    if isinstance(value, BaseModel):
        return "(table)"
    if value is None:
        return "not set"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def _md(text: str | None) -> str:
    """Docstring/description text as Markdown table-safe text."""
    return (text or "").replace("``", "`").replace("|", "\\|")


def _meaning(f: FieldInfo) -> str:
    return " — ".join(_md(x) for x in (f.title, f.description) if x)


def _row(key: str, f: FieldInfo) -> str:
    return f"| `{key}` | {_type_name(f.annotation)}{_limits(f)} | {_default(f)} | {_meaning(f)} |"


def _limits(f: FieldInfo) -> str:
    parts = []
    for m in f.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return f" ({', '.join(parts)})" if parts else ""


def _sections(tp) -> list[type[Section]]:
    """The Section classes a field holds: one, or the variants of a tagged union."""
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, Section)]
    return [tp] if isinstance(tp, type) and issubclass(tp, Section) else []


def _table(name: str, model: type[Section], out: list[str], title: str | None = None) -> None:
    out += ["", f"### `[{name}]`" + (f" — {title}" if title else ""), ""]
    doc = (model.__doc__ or "").strip().splitlines()
    if doc:
        out += [_md(doc[0]), ""]
    out += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, f in model.model_fields.items():
        out.append(_row(key, f))


def render_program(title: str, model: type[Section], example: str | None) -> str:
    out = [f"## {title}", "", _md((model.__doc__ or "").strip().splitlines()[0])]
    if example:
        out += ["", "Smallest useful file:", "", "```toml", example.rstrip(), "```"]
    top = [(k, f) for k, f in model.model_fields.items() if not _sections(f.annotation)]
    if top:
        out += ["", "Top-level keys:", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        out += [_row(key, f) for key, f in top]
    for key, f in model.model_fields.items():
        variants = _sections(f.annotation)
        if len(variants) == 1:
            _table(key, variants[0], out)
        for v in variants if len(variants) > 1 else ():
            tag = typing.get_args(v.model_fields["type"].annotation)
            _table(key, v, out, title=f"`type = \"{tag[0]}\"`" if tag else v.__name__)
    return "\n".join(out) + "\n"


def render_reference(programs: dict[str, tuple[str, type[Section]]]) -> str:
    """Markdown for ``programs``: name -> (heading, model)."""
    parts = [INTRO]
    for name, (heading, model) in programs.items():
        parts.append(render_program(heading, model, EXAMPLES.get(name)))
    return "\n".join(parts)
