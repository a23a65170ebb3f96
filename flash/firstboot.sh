#!/bin/sh
# First boot of a Digital Congress door unit. Written to the boot partition by `congress flash` as
# congress/firstboot.sh and run as root: by cloud-init (runcmd) on current Raspberry Pi OS images, by
# firstrun.sh (systemd.run= on the kernel command line, before any network) on older ones.
#
# 1. checks every file against congress/manifest.sha256 (a bad card stops here, nothing installed);
#    a private key already moved off the card is checked where it was moved to;
# 2. checks that the software on the card (wheels/TARGET) is for this system: 64-bit Raspberry Pi OS of
#    the release and Python it was made for (stops here otherwise, nothing installed);
# 3. creates the service user and directories (systemd-sysusers, systemd-tmpfiles);
# 4. installs the configuration and public certificates into /etc/congress;
# 5. moves the private keys into /var/lib/congress-edge/keys with mode 0600 and deletes them from the
#    boot partition: FAT has no permissions, anyone who reads the card reads the keys until then;
# 6. installs the face models into /opt/congress/models;
# 7. installs the software into /opt/congress/venv from the wheels on the card, offline (pip
#    --no-index), over Debian's numpy (picamera2 is built against it); Debian packages missing from the
#    image come from congress/debs on the card, or else from the network after the clock is set and
#    the package lists are fresh;
# 8. enables congress-edge.service and systemd-time-wait-sync (TLS waits for a set clock).
#
# Every step can run again: an interrupted first boot is resumed by running the script again (cloud-init
# and firstrun.sh do on the next boot; by hand: sudo sh /boot/firmware/congress/firstboot.sh). A card
# that was already provisioned does nothing; a card flashed again for the unit provisions it again.
#
# CONGRESS_FIRSTBOOT_ROOT installs under another root directory instead of / (tests use it); then no
# service is started and no software or Debian package is installed.
set -eu

SRC=$(cd "$(dirname "$0")" && pwd)
ROOT=${CONGRESS_FIRSTBOOT_ROOT:-}
LOG_TAG=congress-firstboot
STATE=$ROOT/var/lib/congress-edge
ETC=$ROOT/etc/congress
OPT=$ROOT/opt/congress
DONE=$STATE/provisioned
CLOCK_WAIT_S=${CONGRESS_FIRSTBOOT_CLOCK_WAIT:-300}

say() {
    echo "$LOG_TAG: $*" >&2
    if [ -z "$ROOT" ] && command -v logger >/dev/null 2>&1; then logger -t "$LOG_TAG" -- "$*" 2>/dev/null || true; fi
}

fail() {
    say "ERROR: $*"
    say "the unit is NOT provisioned; fix what is named above, then run this script again or reboot"
    exit 1
}

target() {  # target KEY: a value of the card's wheels/TARGET
    sed -n "s/^$1=//p" "$SRC/wheels/TARGET" | head -n 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root"
[ -f "$SRC/manifest.sha256" ] || fail "$SRC/manifest.sha256 is missing"
CARD=$(sha256sum "$SRC/manifest.sha256" | cut -d ' ' -f 1)
if [ -f "$DONE" ] && grep -qx "card=$CARD" "$DONE" && ! ls "$SRC"/keys/* >/dev/null 2>&1; then
    say "already provisioned from this card ($(sed -n 's/^at=//p' "$DONE")); nothing to do"
    exit 0
fi

say "checking the files on the card"
on_card=$(mktemp)
moved=$(mktemp)
trap 'rm -f "$on_card" "$moved"' EXIT
while read -r sum name; do
    if [ -f "$SRC/$name" ]; then
        echo "$sum  $name" >> "$on_card"
    elif [ "${name#keys/}" != "$name" ] && [ -f "$STATE/$name" ]; then
        echo "$sum  $name" >> "$moved"  # moved off the card by an earlier run: check the installed copy
    else
        fail "$name is missing from the card"
    fi
done < "$SRC/manifest.sha256"
(cd "$SRC" && sha256sum --check --quiet --strict "$on_card") || fail "a file on the card is damaged"
if [ -s "$moved" ]; then
    (cd "$STATE" && sha256sum --check --quiet --strict "$moved") || \
        fail "a key moved off the card earlier differs from the card's manifest; flash the card again"
fi

# The Python first boot installs into: the system's (checked below), or the test's under ROOT.
PY_INFO=$(python3 -c 'import sys, sysconfig; print("%d.%d" % sys.version_info[:2], sysconfig.get_config_var("MULTIARCH"))' 2>/dev/null || echo "none none")
PY_VERSION=${PY_INFO% *}
PY_MULTIARCH=${PY_INFO#* }
CODENAME=$(sed -n 's/^VERSION_CODENAME=//p' "$ROOT/etc/os-release" 2>/dev/null | tr -d '"' || true)
if [ -f "$SRC/wheels/TARGET" ]; then
    say "checking that the software on the card is for this system"
    want_release=$(target release)
    want_python=$(target python)
    want_multiarch=$(target multiarch)
    if [ "$PY_MULTIARCH" != "$want_multiarch" ]; then
        case "$PY_MULTIARCH" in
            arm-linux-gnueabihf|arm-linux-gnueabi)
                fail "this is 32-bit Raspberry Pi OS ($PY_MULTIARCH): the door unit needs the 64-bit image (numpy, OpenCV, LiteRT and cryptography have no 32-bit ARM wheels); flash Raspberry Pi OS Lite (64-bit) $want_release" ;;
            *)
                fail "the software on this card is for $want_multiarch, this system's Python is $PY_MULTIARCH; flash Raspberry Pi OS Lite (64-bit) $want_release" ;;
        esac
    fi
    if [ "$CODENAME" != "$want_release" ] || [ "$PY_VERSION" != "$want_python" ]; then
        case "$CODENAME" in
            bookworm) why="bookworm's picamera2 is built against numpy 1.24 and the unit's OpenCV needs numpy 2" ;;
            *) why="the wheels on the card are for Python $want_python" ;;
        esac
        fail "this is Raspberry Pi OS ${CODENAME:-unknown} with Python $PY_VERSION; the card's software is for $want_release with Python $want_python ($why); flash a Raspberry Pi OS Lite (64-bit) $want_release image"
    fi
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

say "installing configuration and certificates"
install -d -m 0755 "$ETC"
install -m 0644 "$SRC/ca.pem" "$ETC/ca.pem"
install -m 0644 "$SRC/unit.pem" "$ETC/unit.pem"
install -m 0644 "$SRC/controller-signing.pub" "$ETC/controller-signing.pub"
install -m 0644 "$SRC/signing.pub" "$ETC/signing.pub"
install -m 0640 -o 0 -g "$GID_EDGE" "$SRC/edge.toml" "$ETC/edge.toml"

say "installing the face models"
install -d -m 0755 "$OPT/models"
for model in "$SRC"/models/*; do
    install -m 0644 "$model" "$OPT/models/$(basename "$model")"
done

say "moving the private keys off the boot partition"
install -d -m 0700 -o "$UID_EDGE" -g "$GID_EDGE" "$STATE" "$STATE/keys"
for key in "$SRC"/keys/*; do
    [ -f "$key" ] || continue
    name=$(basename "$key")
    install -m 0600 -o "$UID_EDGE" -g "$GID_EDGE" "$key" "$STATE/keys/$name.new"
    sync
    mv "$STATE/keys/$name.new" "$STATE/keys/$name"
    rm -f "$key"
done
rmdir "$SRC/keys" 2>/dev/null || true
sync

clock_is_set() {
    [ -e /run/systemd/timesync/synchronized ] && return 0
    [ "$(timedatectl show -p NTPSynchronized --value 2>/dev/null || true)" = "yes" ]
}

wait_for_clock() {  # TLS certificates and apt's signed package lists are checked against the clock
    waited=0
    until clock_is_set; do
        [ "$waited" -ge "$CLOCK_WAIT_S" ] && fail "the clock is not set after ${CLOCK_WAIT_S} s (no NTP server reachable) and $1 needs it"
        [ "$waited" -eq 0 ] && say "waiting for the clock to be set (NTP) before $1"
        sleep 5
        waited=$((waited + 5))
    done
}

debian_packages() {  # install the Debian packages named in $@ that are missing
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if ls "$SRC"/debs/*.deb >/dev/null 2>&1; then
        say "installing Debian packages from the card:$missing"
        dpkg -i "$SRC"/debs/*.deb >/dev/null || fail "installing congress/debs/*.deb failed"
        return 0
    fi
    wait_for_clock "apt-get"
    say "installing Debian packages from the network:$missing"
    apt-get update -qq || fail "apt-get update failed (no network?); missing:$missing (or put them in congress/debs on the card)"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing || fail "apt-get install$missing failed"
}

WHEELS_ID=""
if [ -f "$SRC/wheels/TARGET" ]; then
    WHEELS_ID=$(cd "$SRC" && grep '  wheels/' manifest.sha256 | sha256sum | cut -d ' ' -f 1)
fi
if [ -z "$ROOT" ] && [ -n "$WHEELS_ID" ]; then
    if [ -x "$OPT/venv/bin/congress" ] && grep -qx "wheels=$WHEELS_ID" "$OPT/installed" 2>/dev/null; then
        say "the software from this card is installed already"
    else
        # shellcheck disable=SC2046
        debian_packages $(target apt)
        python3 -c 'import numpy' 2>/dev/null || fail "Debian's python3-numpy does not load"
        python3 -c 'import picamera2' 2>/dev/null || \
            say "WARNING: python3-picamera2 is missing (Raspberry Pi OS ships it); [camera] type = \"picamera2\" needs it"
        say "installing the software from the card's wheels (offline)"
        rm -rf "$OPT/venv" "$OPT/installed"  # a run that stopped half-way leaves a venv without the marker
        python3 -m venv --system-site-packages "$OPT/venv" || fail "python3 -m venv failed"
        "$OPT/venv/bin/pip" install --quiet --no-index --find-links "$SRC/wheels" --disable-pip-version-check \
            "$(target project | sed 's/==/[edge]==/')" || fail "pip install from the card's wheels failed"
        "$OPT/venv/bin/congress" --version >/dev/null || fail "the installed congress command does not start"
        echo "wheels=$WHEELS_ID" > "$OPT/installed"
    fi
elif [ -z "$ROOT" ] && [ ! -x "$OPT/venv/bin/congress" ]; then
    say "the software is not installed and the card has no wheels: flash it with --wheelhouse, or install it, then start congress-edge"
fi

say "enabling the door-unit service"
install -D -m 0644 "$SRC/systemd/congress-edge.service" "$ROOT/etc/systemd/system/congress-edge.service"
if [ -n "$ROOT" ]; then
    systemctl --root="$ROOT" enable congress-edge.service systemd-time-wait-sync.service >/dev/null 2>&1 || \
        systemctl --root="$ROOT" enable congress-edge.service
else
    # Without systemd running (an image prepared in a chroot) there is nothing to reload.
    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
    systemctl enable systemd-time-wait-sync.service || say "systemd-time-wait-sync is not available (apt install systemd-timesyncd)"
    systemctl enable congress-edge.service
fi

printf 'card=%s\nat=%s\n' "$CARD" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$DONE.new"
chown "$UID_EDGE:$GID_EDGE" "$DONE.new"
mv "$DONE.new" "$DONE"
echo "provisioned; private keys moved to /var/lib/congress-edge/keys and deleted from this card" \
    > "$SRC/PROVISIONED.txt"
say "done: the door unit starts after the next boot (or: systemctl start congress-edge)"
