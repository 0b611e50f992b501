#!/usr/bin/env bash
# One-shot, offline-from-Docker-Hub build of the image `advisorgym-api:latest`.
#
#   mock_apis/docker/build.sh        # from anywhere; as root on a fresh machine
#
# Steps (each skips what is already done, so a second run takes seconds):
#   1. Docker engine: installs Debian's docker.io (and debootstrap) with apt if dockerd is missing,
#      and docker-compose (v1, the Compose bookworm has) if no Compose is there (SKIP_COMPOSE=1: don't);
#      starts dockerd in the background if the daemon does not answer (log: $DOCKERD_LOG); the
#      daemon keeps running afterwards.
#   2. Base image advisorgym-base:latest: mock_apis/docker/build_base.sh (debootstrap bookworm).
#   3. Wheelhouse in build/docker/context/wheelhouse/ (build/ is git-ignored):
#        deps/  the project's dependencies as wheels, pinned (pip constraints) to the versions in
#               the host environment ($PYTHON), so container and host run the same code; rebuilt
#               only when pyproject.toml or that environment changes (needs PyPI or pip's cache);
#        app/   the advisorgym wheel, built from a clean copy of the source tree every run
#               (reproducible bytes, so an unchanged tree reuses the image's layer).
#   4. docker build --network none -t advisorgym-api:latest -f mock_apis/Dockerfile build/docker/context
#      (its dependency stage tagged advisorgym-api-deps:latest first, stale copies of it pruned)
#
# Environment: PYTHON (default: .venv/bin/python, else python3; must be CPython 3.11 like the
# image), IMAGE_TAG (advisorgym-api:latest), DEPS_TAG (its dependency stage, advisorgym-api-deps:latest),
# BASE_TAG (advisorgym-base:latest),
# DOCKERD_LOG (/var/log/advisorgym-dockerd.log), DOCKER_WAIT (seconds to wait for dockerd, 60).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGE_TAG="${IMAGE_TAG:-advisorgym-api:latest}"
DEPS_TAG="${DEPS_TAG:-${IMAGE_TAG%%:*}-deps:latest}"
export BASE_TAG="${BASE_TAG:-advisorgym-base:latest}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/advisorgym-dockerd.log}"
DOCKER_WAIT="${DOCKER_WAIT:-60}"
WORK="$ROOT/build/docker"
CTX="$WORK/context"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="python3"; fi
fi

log() { printf '>> build: %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
declare -a TIMINGS=()
step_started=0
step() { step_started=$SECONDS; log "$*"; }
step_done() { TIMINGS+=("$(printf '%-12s %4ds  %s' "$1" "$((SECONDS - step_started))" "${2:-}")"); }

is_root() { [[ "$(id -u)" == 0 ]]; }
mkdir -p "$WORK"
# one build at a time (parallel test runs share build/docker/)
exec 9>"$WORK/.lock"
flock 9

# ----------------------------------------------------------------------------- 1. engine
step "docker engine"
engine_notes=()
packages=()
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    packages+=(docker.io)
    command -v debootstrap >/dev/null || packages+=(debootstrap)  # for step 2, in the same apt run
fi
# Compose for docker-compose.yml: Debian bookworm has only v1 (docker-compose); a v2 plugin also does
if [[ "${SKIP_COMPOSE:-0}" != 1 ]] && ! docker compose version >/dev/null 2>&1 \
        && ! command -v docker-compose >/dev/null; then
    packages+=(docker-compose)
fi
if [[ ${#packages[@]} -gt 0 ]]; then
    if ! is_root || ! command -v apt-get >/dev/null; then
        [[ " ${packages[*]} " != *" docker.io "* ]] \
            || die "the Docker engine is not installed; run this as root on Debian (it installs docker.io with apt)"
        log "warning: not installing ${packages[*]} (needs root and apt)"
    else
        log "installing ${packages[*]} with apt"
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            "${packages[@]}" ca-certificates >/dev/null 2>"$WORK/apt.log" \
            || { cat "$WORK/apt.log" >&2; die "apt-get install ${packages[*]} failed"; }
        engine_notes+=("installed ${packages[*]}")
    fi
fi
if ! docker info >/dev/null 2>&1; then
    if ! { command -v pgrep >/dev/null && pgrep -x dockerd >/dev/null; }; then
        is_root || die "the Docker daemon is not running; start it (or run this as root to have it started)"
        log "starting dockerd (log: $DOCKERD_LOG)"
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        # setsid + nohup: the daemon outlives this script and the caller's terminal
        setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &  # 9: not the build lock
        engine_notes+=("started dockerd (pid $!)")
    fi
    for ((i = 0; i < DOCKER_WAIT; i++)); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
        die "the Docker daemon did not answer within ${DOCKER_WAIT}s (see $DOCKERD_LOG)"
    fi
fi
[[ ${#engine_notes[@]} -gt 0 ]] || engine_notes=("already running")
step_done engine "$(printf "%s; " "${engine_notes[@]}")server $(docker version --format '{{.Server.Version}}' 2>/dev/null)"

# ----------------------------------------------------------------------------- 2. base image
step "base image $BASE_TAG"
if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    step_done base "exists"
else
    is_root || die "building $BASE_TAG needs root (debootstrap)"
    "$ROOT/mock_apis/docker/build_base.sh"
    step_done base "debootstrap + docker import"
fi

# ----------------------------------------------------------------------------- 3. wheelhouse
step "wheelhouse ($PYTHON)"
"$PYTHON" - <<'EOF' || die "$PYTHON must be CPython 3.11 on linux x86_64 (the image's python3 is Debian bookworm's 3.11)"
import platform, sys
sys.exit(0 if sys.version_info[:2] == (3, 11) and platform.python_implementation() == "CPython"
         and sys.platform == "linux" and platform.machine() == "x86_64" else 1)
EOF
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip"
mkdir -p "$WORK" "$CTX/wheelhouse/deps" "$CTX/wheelhouse/app" "$CTX/mock_apis/docker"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# the host environment's versions, minus advisorgym itself (editable or not)
"$PYTHON" -m pip freeze --exclude-editable 2>/dev/null \
    | grep -viE '^(advisorgym([ =@]|$)|-e )' | grep -E '^[A-Za-z0-9]' > "$WORK/constraints.txt.new" || true
deps_key="$( { cat "$ROOT/pyproject.toml" "$WORK/constraints.txt.new"; "$PYTHON" -VV; } | sha256sum | cut -c1-16)"
mv -f "$WORK/constraints.txt.new" "$WORK/constraints.txt"

# a clean copy of the source tree: tracked and untracked-but-not-ignored files (no stale build/)
SRC="$WORK/src"
rm -rf "$SRC"
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard -- pyproject.toml README.md advisorgym advisorgym_verifiers.py envs mock_apis fixtures trainer \
        | xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh \
        | tar --null -T - -cf -) | tar -C "$SRC" -xf -
else
    tar -C "$ROOT" --exclude=__pycache__ --exclude='*.pyc' -cf - pyproject.toml README.md envs mock_apis fixtures trainer \
        | tar -C "$SRC" -xf -
fi

deps_note="cached"
: > "$WORK/wheelhouse.log"
if [[ "$(cat "$CTX/wheelhouse/deps/.key" 2>/dev/null)" != "$deps_key" ]] \
        || ! compgen -G "$CTX/wheelhouse/deps/*.whl" >/dev/null; then
    log "resolving dependency wheels (pinned to $WORK/constraints.txt)"
    rm -rf "$WORK/deps.new"
    "$PYTHON" -m pip wheel --wheel-dir "$WORK/deps.new" --constraint "$WORK/constraints.txt" "$SRC" \
        >"$WORK/wheelhouse.log" 2>&1 || { tail -n 30 "$WORK/wheelhouse.log" >&2; die "pip wheel failed (log: $WORK/wheelhouse.log)"; }
    rm -f "$WORK"/deps.new/advisorgym-*.whl
    nonwheel="$(find "$WORK/deps.new" -type f ! -name '*.whl' | head -n 3)"
    [[ -z "$nonwheel" ]] || die "pip wheel left non-wheel files: $nonwheel"
    rm -rf "$CTX/wheelhouse/deps"
    mv "$WORK/deps.new" "$CTX/wheelhouse/deps"
    echo "$deps_key" > "$CTX/wheelhouse/deps/.key"
    deps_note="built"
fi

# the app wheel: fixed timestamps, so the same source gives the same bytes (and a cached layer)
rm -rf "$WORK/app.new"
# Build with the interpreter's own setuptools only where it can build wheels by itself (70.1+ has
# bdist_wheel built in); a fresh venv's older setuptools has none, so pip fetches setuptools itself.
isolation=()
"$PYTHON" -c 'import setuptools.command.bdist_wheel' 2>/dev/null && isolation=(--no-build-isolation)
SOURCE_DATE_EPOCH=315532800 "$PYTHON" -m pip wheel --no-deps "${isolation[@]}" --wheel-dir "$WORK/app.new" "$SRC" \
    >>"$WORK/wheelhouse.log" 2>&1 || { tail -n 30 "$WORK/wheelhouse.log" >&2; die "pip wheel failed (log: $WORK/wheelhouse.log)"; }
app_wheel="$(cd "$WORK/app.new" && ls advisorgym-*.whl)"
if cmp -s "$WORK/app.new/$app_wheel" "$CTX/wheelhouse/app/$app_wheel"; then
    app_note="unchanged"
else
    rm -f "$CTX"/wheelhouse/app/*.whl
    cp "$WORK/app.new/$app_wheel" "$CTX/wheelhouse/app/"
    app_note="updated"
fi
rm -rf "$WORK/app.new" "$SRC"
cp "$ROOT/mock_apis/docker/entrypoint.sh" "$CTX/mock_apis/docker/entrypoint.sh"
step_done wheelhouse "deps $deps_note ($(ls "$CTX"/wheelhouse/deps/*.whl | wc -l) wheels, $(du -sh "$CTX/wheelhouse/deps" | cut -f1)); $app_wheel $app_note"

# ----------------------------------------------------------------------------- 4. image
step "docker build $IMAGE_TAG"
before="$(docker image inspect --format '{{.Id}}' "$IMAGE_TAG" 2>/dev/null || true)"
# --network none: the build needs (and gets) no network at all. The dependency stage is tagged
# ($DEPS_TAG) so that it stays the cache; the copies an earlier dependency set left (untagged,
# ~650 MB each) are pruned, by the stage's label only.
: >"$WORK/build.log"
for tag_args in "--target deps --tag $DEPS_TAG" "--tag $IMAGE_TAG"; do
    read -r -a args <<<"$tag_args"
    docker build --network none "${args[@]}" --file "$ROOT/mock_apis/Dockerfile" "$CTX" >>"$WORK/build.log" 2>&1 \
        || { tail -n 40 "$WORK/build.log" >&2; die "docker build failed (full log: $WORK/build.log)"; }
done
docker image prune --force --filter "label=org.advisorgym.stage=deps" >/dev/null 2>&1 || true
after="$(docker image inspect --format '{{.Id}}' "$IMAGE_TAG")"
if [[ -n "$before" && "$before" != "$after" ]]; then
    docker rmi "$before" >/dev/null 2>&1 || true  # the previous build, now untagged (kept if in use)
fi
step_done image "$([[ "$before" == "$after" ]] && echo unchanged || echo built) ${after:7:12}, $(docker image inspect --format '{{.Size}}' "$IMAGE_TAG" | awk '{printf "%.0f MB", $1 / 1e6}')"

log "done: $IMAGE_TAG"
printf '   %s\n' "${TIMINGS[@]}" >&2
