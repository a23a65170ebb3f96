"""Configuration: unknown keys, wrong types and missing keys are rejected by name."""

from __future__ import annotations

import pytest

from congress.cli import main
from congress.config import load_config, read_secret
from congress.config.edge import EdgeConfig
from congress.errors import ConfigError

GOOD = """
[venue]
id = "congress-2026"
[unit]
id = "door-1"
signing_key_file = "keys/door-1.ed25519.pem"
[broker]
ca_file = "ca.pem"
cert_file = "door-1.pem"
key_file = "door-1.key"
"""


def write(tmp_path, text):
    p = tmp_path / "unit.toml"
    p.write_text(text)
    return p


def test_valid_edge_config_resolves_relative_paths(tmp_path):
    cfg = load_config(write(tmp_path, GOOD), EdgeConfig)
    assert cfg.unit.id == "door-1"
    assert cfg.broker.port == 8883
    assert cfg.broker.ca_file == tmp_path / "ca.pem"


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"broker\.prot: unknown key"):
        load_config(write(tmp_path, GOOD + "prot = 1\n"), EdgeConfig)


def test_wrong_type_is_named(tmp_path):
    text = GOOD.replace('ca_file = "ca.pem"', 'ca_file = "ca.pem"\nport = "eighty"')
    with pytest.raises(ConfigError, match=r"broker\.port: .*'eighty'"):
        load_config(write(tmp_path, text), EdgeConfig)


def test_bad_unit_id(tmp_path):
    with pytest.raises(ConfigError, match=r"unit\.id"):
        load_config(write(tmp_path, GOOD.replace('"door-1"', '"door 1/#"', 1)), EdgeConfig)


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[venue\n"), EdgeConfig)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", EdgeConfig)


def test_secret_from_credentials_directory_then_env(tmp_path, monkeypatch):
    monkeypatch.delenv("CONGRESS_GALLERY_KEY", raising=False)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    with pytest.raises(ConfigError, match="CONGRESS_GALLERY_KEY"):
        read_secret("gallery-key")
    monkeypatch.setenv("CONGRESS_GALLERY_KEY", "from-env")
    assert read_secret("gallery-key") == "from-env"
    (tmp_path / "gallery-key").write_text("from-creds\n")
    assert read_secret("gallery-key") == "from-creds"


def test_cli_config_check(tmp_path, capsys):
    good = write(tmp_path, GOOD)
    assert main(["config", "check", str(good), "--json"]) == 0
    assert '"program": "edge"' in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD + "[camra]\n")
    assert main(["config", "check", str(bad)]) == 2
    assert "camra: unknown key" in capsys.readouterr().err
