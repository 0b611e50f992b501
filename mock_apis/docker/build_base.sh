#!/usr/bin/env bash
# Build the local base image `advisorgym-base:latest` without Docker Hub.
#
# Docker Hub is unreachable here, but Debian's package mirror is not, so the base image is a
# minimal Debian bookworm root filesystem made with debootstrap (python3 3.11, venv, pip),
# imported with `docker import`. mock_apis/Dockerfile starts FROM it.
#
#   sudo mock_apis/docker/build_base.sh            # needs root (debootstrap, chroot)
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), BASE_TAG
# (default advisorgym-base:latest), SUITE (default bookworm).
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${SUITE:-bookworm}"
TAG="${BASE_TAG:-advisorgym-base:latest}"
PACKAGES="python3,python3-venv,python3-pip,ca-certificates,tini"

if [[ "$(id -u)" != 0 ]]; then
    echo "build_base.sh: run as root (debootstrap needs it): sudo $0" >&2
    exit 1
fi
command -v docker >/dev/null || { echo "build_base.sh: docker CLI not found" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build_base.sh: the Docker daemon is not reachable" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
fi

ROOTFS="$(mktemp -d /tmp/advisorgym-rootfs.XXXXXX)"
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

echo ">> debootstrap $SUITE from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR"

echo ">> slimming the root filesystem"
chroot "$ROOTFS" /bin/sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/info/*'
# the image's resolver comes from the container runtime
: > "$ROOTFS/etc/resolv.conf"
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$ROOTFS/etc/apt/sources.list"
chroot "$ROOTFS" python3 --version

echo ">> docker import -> $TAG"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap $SUITE ($PACKAGES) from $MIRROR" \
    - "$TAG"
docker run --rm "$TAG" python3 -c 'import sys, venv, ensurepip; print("base ok:", sys.version.split()[0])'
