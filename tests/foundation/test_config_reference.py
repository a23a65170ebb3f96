"""The configuration reference is generated from the models and its examples are valid files."""

from __future__ import annotations

import pytest

from congress.cli import main
from congress.config import Section, parse_config
from congress.config.controller import ControllerConfig
from congress.config.edge import EdgeConfig
from congress.config.reference import EXAMPLES, _sections


def tables(model: type[Section]) -> dict[str, list[type[Section]]]:
    return {k: _sections(f.annotation) for k, f in model.model_fields.items() if _sections(f.annotation)}


@pytest.mark.parametrize("model", [EdgeConfig, ControllerConfig])
def test_reference_names_every_table_and_key(model, tmp_path, capsys):
    out = tmp_path / "configuration.md"
    assert main(["config", "reference", "-o", str(out)]) == 0
    text = out.read_text()
    for table, variants in tables(model).items():
        assert f"### `[{table}]`" in text
        for variant in variants:
            for key in variant.model_fields:
                assert f"| `{key}` |" in text, f"{table}.{key} missing"
    for key, f in model.model_fields.items():
        if not _sections(f.annotation):
            assert f"| `{key}` |" in text
    assert "**required**" in text


def test_examples_in_the_reference_are_valid():
    import tomllib

    parse_config(tomllib.loads(EXAMPLES["edge"]), EdgeConfig, source="edge example")
    parse_config(tomllib.loads(EXAMPLES["controller"]), ControllerConfig, source="controller example")
