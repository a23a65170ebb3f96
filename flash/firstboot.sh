#!/bin/sh
# First boot of a Digital Congress door unit. Written to the boot partition by `congress flash` as
# congress/firstboot.sh and run once as root: by cloud-init (runcmd) on current Raspberry Pi OS images,
# by firstrun.sh (systemd.run= on the kernel command line) on older ones.
#
# 1. checks every file against congress/manifest.sha256 (a bad card stops here, nothing installed);
# 2. creates the service user and directories (systemd-sysusers, systemd-tmpfiles);
# 3. installs the configuration and public certificates into /etc/congress;
# 4. moves the private keys into /var/lib/congress-edge/keys with mode 0600 and deletes them from the
#    boot partition: FAT has no permissions, anyone who reads the card reads the keys until then;
# 5. installs the face models into /opt/congress/models, and the software from a wheel on the card when
#    it is not installed yet (needs network);
# 6. enables congress-edge.service and systemd-time-wait-sync (TLS waits for a set clock).
#
# CONGRESS_FIRSTBOOT_ROOT installs under another root directory instead of / (tests use it); then no
# service is started and no software is installed.
set -eu

SRC=$(cd "$(dirname "$0")" && pwd)
ROOT=${CONGRESS_FIRSTBOOT_ROOT:-}
LOG_TAG=congress-firstboot
STATE=$ROOT/var/lib/congress-edge
ETC=$ROOT/etc/congress

say() {
    echo "$LOG_TAG: $*" >&2
    if [ -z "$ROOT" ] && command -v logger >/dev/null 2>&1; then logger -t "$LOG_TAG" -- "$*"; fi
}

fail() {
    say "ERROR: $*"
    say "the unit is NOT provisioned; fix the card (flash it again) and reboot"
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

say "installing configuration and certificates"
install -d -m 0755 "$ETC"
install -m 0644 "$SRC/ca.pem" "$ETC/ca.pem"
install -m 0644 "$SRC/unit.pem" "$ETC/unit.pem"
install -m 0644 "$SRC/controller-signing.pub" "$ETC/controller-signing.pub"
install -m 0644 "$SRC/signing.pub" "$ETC/signing.pub"
install -m 0640 -o 0 -g "$GID_EDGE" "$SRC/edge.toml" "$ETC/edge.toml"

say "installing the face models"
install -d -m 0755 "$ROOT/opt/congress/models"
for model in "$SRC"/models/*; do
    install -m 0644 "$model" "$ROOT/opt/congress/models/$(basename "$model")"
done

say "moving the private keys off the boot partition"
install -d -m 0700 -o "$UID_EDGE" -g "$GID_EDGE" "$STATE" "$STATE/keys"
for key in "$SRC"/keys/*; do
    [ -f "$key" ] || continue
    name=$(basename "$key")
    install -m 0600 -o "$UID_EDGE" -g "$GID_EDGE" "$key" "$STATE/keys/$name"
    rm -f "$key"
done
rmdir "$SRC/keys" 2>/dev/null || true
sync

if [ -z "$ROOT" ] && [ ! -x /opt/congress/venv/bin/congress ]; then
    wheel=$(ls "$SRC"/dist/*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$wheel" ]; then
        say "installing the software from $wheel (needs network for its dependencies)"
        apt-get install -y --no-install-recommends python3-venv python3-picamera2 python3-lgpio || \
            say "apt-get failed; continuing with what is installed"
        python3 -m venv --system-site-packages /opt/congress/venv
        /opt/congress/venv/bin/pip install --quiet "$wheel[edge]" || fail "pip install $wheel failed"
    else
        say "the software is not installed and no wheel is on the card: install it, then start congress-edge"
    fi
fi

say "enabling the door-unit service"
install -D -m 0644 "$SRC/systemd/congress-edge.service" "$ROOT/etc/systemd/system/congress-edge.service"
if [ -n "$ROOT" ]; then
    systemctl --root="$ROOT" enable congress-edge.service systemd-time-wait-sync.service >/dev/null 2>&1 || \
        systemctl --root="$ROOT" enable congress-edge.service
else
    systemctl daemon-reload
    systemctl enable systemd-time-wait-sync.service || say "systemd-time-wait-sync is not available"
    systemctl enable congress-edge.service
fi

date -u +%Y-%m-%dT%H:%M:%SZ > "$STATE/provisioned"
chown "$UID_EDGE:$GID_EDGE" "$STATE/provisioned"
echo "provisioned; private keys moved to /var/lib/congress-edge/keys and deleted from this card" \
    > "$SRC/PROVISIONED.txt"
say "done: the door unit starts after the next boot (or: systemctl start congress-edge)"
