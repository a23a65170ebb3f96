#!/bin/sh
# First boot of a Digital Congress satellite site gateway. Written to the boot partition by
# `congress flash --site SITE` as congress/firstboot.sh and run once as root, like a door unit's.
#
# 1. checks every file against congress/manifest.sha256 (a bad card stops here, nothing installed);
# 2. creates the service user and directories (systemd-sysusers, systemd-tmpfiles);
# 3. installs the gateway's configuration and public certificates into /etc/congress and the site
#    broker's configuration, ACL and certificates into /etc/mosquitto (its bridge to the central broker);
# 4. moves the private keys off the boot partition: the site broker's TLS key and the site key its
#    bridge presents into /etc/mosquitto/congress (0640 root:mosquitto), the gateway's signing key and
#    its copy of the site key into /var/lib/congress-edge/keys (0600);
# 5. installs Mosquitto when missing (needs network) and the software from the card's wheels (offline);
# 6. enables mosquitto.service and congress-gateway.service.
#
# CONGRESS_FIRSTBOOT_ROOT installs under another root directory instead of / (tests use it); then no
# package is installed and no service is started.
set -eu

SRC=$(cd "$(dirname "$0")" && pwd)
ROOT=${CONGRESS_FIRSTBOOT_ROOT:-}
LOG_TAG=congress-firstboot
STATE=$ROOT/var/lib/congress-edge
ETC=$ROOT/etc/congress
MQ=$ROOT/etc/mosquitto

say() {
    echo "$LOG_TAG: $*" >&2
    if [ -z "$ROOT" ] && command -v logger >/dev/null 2>&1; then logger -t "$LOG_TAG" -- "$*"; fi
}

fail() {
    say "ERROR: $*"
    say "the gateway is NOT provisioned; fix the card (flash it again) and reboot"
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root"
if [ -f "$STATE/provisioned" ]; then
    say "already provisioned on $(cat "$STATE/provisioned"); nothing to do"
    exit 0
fi
[ -f "$SRC/manifest.sha256" ] || fail "$SRC/manifest.sha256 is missing"

say "checking the files on the card"
(cd "$SRC" && sha256sum --check --quiet --strict manifest.sha256) || fail "a file on the card is damaged"

if [ -z "$ROOT" ] && ! command -v mosquitto >/dev/null 2>&1; then
    say "installing Mosquitto (needs network)"
    apt-get install -y --no-install-recommends mosquitto || fail "apt-get install mosquitto failed"
fi

say "creating the service user and directories"
install -D -m 0644 "$SRC/systemd/congress-sysusers.conf" "$ROOT/usr/lib/sysusers.d/congress.conf"
install -D -m 0644 "$SRC/systemd/congress-tmpfiles.conf" "$ROOT/usr/lib/tmpfiles.d/congress.conf"
if [ -n "$ROOT" ]; then
    systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/congress.conf"
    systemd-tmpfiles --root="$ROOT" --create "$ROOT/usr/lib/tmpfiles.d/congress.conf"
else
    systemd-sysusers /usr/lib/sysusers.d/congress.conf
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/congress.conf
fi
UID_EDGE=$(awk -F: '$1 == "congress-edge" { print $3 }' "$ROOT/etc/passwd")
GID_EDGE=$(awk -F: '$1 == "congress-edge" { print $3 }' "$ROOT/etc/group")
[ -n "$UID_EDGE" ] && [ -n "$GID_EDGE" ] || fail "user congress-edge was not created"
# Debian's mosquitto package creates its group; under a test root it may not exist.
GID_MQ=$(awk -F: '$1 == "mosquitto" { print $3 }' "$ROOT/etc/group")
GID_MQ=${GID_MQ:-0}

say "installing the gateway's configuration and certificates"
install -d -m 0755 "$ETC"
for f in ca.pem site.pem signing.pub controller-signing.pub; do install -m 0644 "$SRC/$f" "$ETC/$f"; done
install -m 0640 -o 0 -g "$GID_EDGE" "$SRC/gateway.toml" "$ETC/gateway.toml"

say "installing the site broker and its bridge to the central broker"
install -d -m 0755 "$MQ" "$MQ/congress"
install -m 0644 "$SRC/mosquitto/mosquitto.conf" "$MQ/mosquitto.conf"
for f in ca.pem broker.pem crl.pem site.pem congress.acl; do
    install -m 0644 "$SRC/mosquitto/$f" "$MQ/congress/$f"
done

say "moving the private keys off the boot partition"
install -m 0640 -o 0 -g "$GID_MQ" "$SRC/keys/broker.key" "$MQ/congress/broker.key"
install -m 0640 -o 0 -g "$GID_MQ" "$SRC/keys/site.key" "$MQ/congress/site.key"
install -d -m 0700 -o "$UID_EDGE" -g "$GID_EDGE" "$STATE" "$STATE/keys"
install -m 0600 -o "$UID_EDGE" -g "$GID_EDGE" "$SRC/keys/site.key" "$STATE/keys/site.key"
install -m 0600 -o "$UID_EDGE" -g "$GID_EDGE" "$SRC/keys/signing.key" "$STATE/keys/signing.key"
rm -f "$SRC"/keys/*
rmdir "$SRC/keys" 2>/dev/null || true
sync

if [ -z "$ROOT" ] && [ -f "$SRC/wheels/TARGET" ] && [ ! -x /opt/congress/venv/bin/congress ]; then
    say "installing the software from the card's wheels (offline)"
    project=$(sed -n 's/^project=//p' "$SRC/wheels/TARGET" | head -n 1 | sed 's/==/[edge]==/')
    python3 -m venv --system-site-packages /opt/congress/venv || fail "python3 -m venv failed"
    /opt/congress/venv/bin/pip install --quiet --no-index --find-links "$SRC/wheels" \
        --disable-pip-version-check "$project" || fail "pip install from the card's wheels failed"
elif [ -z "$ROOT" ] && [ ! -x /opt/congress/venv/bin/congress ]; then
    say "the software is not installed and the card has no wheels: flash it with --wheelhouse, or install it, then start congress-gateway"
fi

say "enabling the site broker and the gateway"
install -D -m 0644 "$SRC/systemd/congress-gateway.service" "$ROOT/etc/systemd/system/congress-gateway.service"
if [ -n "$ROOT" ]; then
    systemctl --root="$ROOT" enable congress-gateway.service >/dev/null 2>&1 || true
else
    systemctl daemon-reload
    systemctl enable mosquitto.service congress-gateway.service
    systemctl restart mosquitto.service || say "mosquitto did not start: see journalctl -u mosquitto"
fi

date -u +%Y-%m-%dT%H:%M:%SZ > "$STATE/provisioned"
chown "$UID_EDGE:$GID_EDGE" "$STATE/provisioned"
echo "provisioned; private keys moved off this card" > "$SRC/PROVISIONED.txt"
say "done: the site broker and the gateway start after the next boot"
