#!/usr/bin/env bash
# Builds (once) and caches an emulated Raspberry Pi OS-like root: Debian trixie arm64 with the Python
# packages a Raspberry Pi OS Lite image ships from Debian (python3, venv, pip, numpy) and systemd's
# sysusers/tmpfiles/systemctl, so the door unit's first boot can run in it under qemu-user.
#
#   scripts/pi-root.sh build      # prints the path of the cached root (builds it when missing)
#   scripts/pi-root.sh binfmt     # registers qemu-aarch64 with binfmt_misc when it is not yet
#
# The root lives outside the repository: $CONGRESS_PI_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/digital-congress/pi.
# A stamp holds the package list; a root built with another list is rebuilt. Needs root (debootstrap,
# chroot) and Debian's debootstrap and qemu-user-static (scripts/setup-system.sh --pi installs them).
set -euo pipefail

RELEASE=${CONGRESS_PI_RELEASE:-trixie}
MIRROR=${CONGRESS_PI_MIRROR:-http://deb.debian.org/debian}
CACHE=${CONGRESS_PI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/digital-congress/pi}
ROOT=$CACHE/$RELEASE-arm64
# What Raspberry Pi OS Lite brings from Debian that the door unit uses. picamera2, lgpio and gpiozero 2
# come from the Raspberry Pi archive, which this machine cannot reach: the unit's gpiozero comes from
# the card's wheelhouse here, and the camera and real pins cannot be emulated anyway.
PACKAGES=systemd,systemd-sysv,python3,python3-venv,python3-pip,python3-numpy,ca-certificates,sudo
# Added to a root built before they were listed (apt-get in the root, no rebuild).
EXTRA=systemd-timesyncd
STAMP="$RELEASE arm64 $PACKAGES v1"

say() { echo "pi-root: $*" >&2; }

binfmt() {
    local bm=/proc/sys/fs/binfmt_misc
    if [ ! -e "$bm/register" ]; then
        mount -t binfmt_misc binfmt_misc "$bm" || {
            say "cannot mount binfmt_misc (a container without CAP_SYS_ADMIN?)"; exit 1; }
    fi
    if [ ! -e "$bm/qemu-aarch64" ]; then
        local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
        [ -f "$conf" ] || { say "$conf is missing: apt-get install qemu-user-static"; exit 1; }
        # The F flag opens the interpreter now, so the arm64 root needs no copy of it.
        grep -v '^#' "$conf" > "$bm/register"
        say "registered qemu-aarch64 with binfmt_misc"
    fi
    grep -q '^enabled' "$bm/qemu-aarch64" || { say "binfmt qemu-aarch64 is disabled"; exit 1; }
}

extra() {  # extra ROOT: install the EXTRA packages the root lacks
    local missing=""
    for p in ${EXTRA//,/ }; do
        chroot "$1" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "adding$missing to the root"
    cp /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || true
    # shellcheck disable=SC2086
    QEMU_CPU=cortex-a72 chroot "$1" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing && apt-get clean" >&2
}

build() {
    [ "$(id -u)" -eq 0 ] || { say "needs root (debootstrap, chroot): run it with sudo"; exit 1; }
    command -v debootstrap >/dev/null || { say "debootstrap is missing: scripts/setup-system.sh --pi"; exit 1; }
    binfmt
    if [ -f "$ROOT/.congress-root" ] && [ "$(cat "$ROOT/.congress-root")" = "$STAMP" ]; then
        extra "$ROOT"
        echo "$ROOT"
        return
    fi
    local tmp=$ROOT.partial
    rm -rf "$tmp"
    mkdir -p "$CACHE"
    say "building a $RELEASE arm64 root in $tmp (takes a while under emulation)"
    local t0=$SECONDS
    # The second stage runs arm64 binaries through qemu (binfmt); a Pi 4's CPU model for all of it.
    QEMU_CPU=cortex-a72 debootstrap --arch=arm64 --variant=minbase --include="$PACKAGES" \
        "$RELEASE" "$tmp" "$MIRROR" >"$CACHE/debootstrap-$RELEASE.log" 2>&1 || {
        say "debootstrap failed; see $CACHE/debootstrap-$RELEASE.log"; tail -n 20 "$CACHE/debootstrap-$RELEASE.log" >&2
        exit 1; }
    extra "$tmp"
    echo "$STAMP" > "$tmp/.congress-root"
    rm -rf "$ROOT"
    mv "$tmp" "$ROOT"
    say "built in $((SECONDS - t0)) s"
    echo "$ROOT"
}

case "${1:-build}" in
    build) build ;;
    binfmt) binfmt ;;
    path) echo "$ROOT" ;;
    *) echo "usage: $0 build|binfmt|path" >&2; exit 2 ;;
esac
