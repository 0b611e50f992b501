#!/usr/bin/env bash
# Build the local base image `advisorgym-base:latest` without Docker Hub.
#
# Docker Hub is unreachable here, but Debian's package mirror is not, so the base image is a
# minimal Debian bookworm root filesystem made with debootstrap (python3 3.11 + venv, tini,
# passwd for useradd), imported with `docker import`. mock_apis/Dockerfile starts FROM it.
#
#   mock_apis/docker/build_base.sh          # as root (debootstrap, chroot); skips an existing image
#   FORCE=1 mock_apis/docker/build_base.sh  # rebuild it anyway
#
# It expects a running Docker daemon (mock_apis/docker/build.sh sets one up first).
# Environment: DEBIAN_MIRROR (default: the mirror this machine's apt uses, else
# http://deb.debian.org/debian), SUITE (default bookworm), BASE_TAG (default
# advisorgym-base:latest), FORCE (1: rebuild even if the image exists).
set -euo pipefail

SUITE="${SUITE:-bookworm}"
TAG="${BASE_TAG:-advisorgym-base:latest}"
# python3-venv brings ensurepip (pip inside the venv); passwd: useradd; tini: PID 1
PACKAGES="python3,python3-venv,tini,passwd"

log() { printf '>> build_base: %s\n' "$*" >&2; }
die() { printf 'build_base.sh: %s\n' "$*" >&2; exit 1; }

# The Debian mirror apt uses here (deb822 .sources or one-line sources.list), so the image
# comes from the same place as the host's packages.
apt_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        awk '
            /^[[:space:]]*$/ { if (deb && uri != "" && suites ~ /(^| )'"$SUITE"'( |$)/) { print uri; exit } deb=0; uri=""; suites=""; next }
            /^Types:/    { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
            /^URIs:/     { uri = $2 }
            /^Suites:/   { $1 = ""; suites = $0; sub(/^ /, "", suites) }
            END          { if (deb && uri != "" && suites ~ /(^| )'"$SUITE"'( |$)/) print uri }
        ' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                           if ($(i + 1) == "'"$SUITE"'") print $i }' "$f"
    done
}

[[ "$(id -u)" == 0 ]] || die "run as root (debootstrap needs it): sudo $0"
command -v docker >/dev/null || die "docker CLI not found (mock_apis/docker/build.sh installs docker.io)"
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (mock_apis/docker/build.sh starts one)"

OLD_ID="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
if [[ "${FORCE:-0}" != 1 && -n "$OLD_ID" ]]; then
    log "$TAG exists; skipping (FORCE=1 rebuilds it)"
    exit 0
fi

if [[ -z "${DEBIAN_MIRROR:-}" ]]; then
    DEBIAN_MIRROR="$(apt_mirror | grep -m1 -E '^https?://' || true)"
fi
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
MIRROR="${MIRROR%/}"

if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
fi

ROOTFS="$(mktemp -d /var/tmp/advisorgym-rootfs.XXXXXX)"
cleanup() {
    # debootstrap mounts /proc and /sys inside the root; never delete through a mount
    local m
    for m in $(awk -v r="$ROOTFS" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$ROOTFS"
}
trap cleanup EXIT

started=$SECONDS
log "debootstrap $SUITE ($PACKAGES) from $MIRROR"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1; then
    tail -n 30 "$ROOTFS.log" >&2
    [[ -f "$ROOTFS/debootstrap/debootstrap.log" ]] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
    rm -f "$ROOTFS.log"
    die "debootstrap failed"
fi
rm -f "$ROOTFS.log"
log "debootstrap done in $((SECONDS - started))s"

log "slimming the root filesystem"
chroot "$ROOTFS" /bin/sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* /var/log/*.log'
# the container runtime provides resolv.conf and the hostname
: > "$ROOTFS/etc/resolv.conf"
rm -f "$ROOTFS/etc/hostname"
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$ROOTFS/etc/apt/sources.list"
chroot "$ROOTFS" python3 --version >&2

log "docker import -> $TAG"
tar --numeric-owner --xattrs -C "$ROOTFS" -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase $SUITE ($PACKAGES) from $MIRROR" \
    - "$TAG" >/dev/null
# smoke test: python, a venv with pip, tini, useradd (no network needed)
docker run --rm --network none "$TAG" /bin/sh -c \
    'python3 -m venv /tmp/v && /tmp/v/bin/pip --version >/dev/null && command -v tini useradd >/dev/null \
     && python3 -c "import sys; print(\"base ok: python\", sys.version.split()[0])"'
# a rebuild leaves the previous base untagged: drop it unless something still uses it
if [[ -n "$OLD_ID" && "$OLD_ID" != "$(docker image inspect --format '{{.Id}}' "$TAG")" ]]; then
    docker rmi "$OLD_ID" >/dev/null 2>&1 || true
fi
log "$TAG built in $((SECONDS - started))s"
