#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the de-identification tests and benchmarks.
#
#   mock_apis/postgres/start.sh DATA_DIR PORT    # prints the SQLAlchemy URL of the running server
#   mock_apis/postgres/stop.sh DATA_DIR          # stops it (DATA_DIR is left for the caller to remove)
#
# Idempotent: installs the server only when no PostgreSQL binaries are found (Debian's
# `postgresql` package, with apt-get, as root; no default cluster is created), runs initdb only
# when DATA_DIR holds no cluster, and starts the server only when it is not running. The server
# listens on 127.0.0.1:PORT only, with its unix socket in DATA_DIR, and trusts local connections
# (user `postgres`, no password): it is for tests on this machine, never for data that matters.
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` system user
# (created if missing), so DATA_DIR's parent must be traversable by it (e.g. under /tmp).
# Environment: PG_BIN (directory of pg_ctl/initdb; default: the newest /usr/lib/postgresql/*/bin,
# else the PATH), PG_START_WAIT (seconds to wait for the server, 60).
set -euo pipefail

die() { printf 'postgres/start.sh: %s\n' "$*" >&2; exit 1; }
log() { printf '>> postgres: %s\n' "$*" >&2; }
[[ $# -eq 2 ]] || die "usage: start.sh DATA_DIR PORT"
DATA="$1"
PORT="$2"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
WAIT="${PG_START_WAIT:-60}"

find_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; fi
}

BIN="$(find_bin)"
if [[ -z "$BIN" ]]; then
    [[ "$(id -u)" == 0 ]] || die "no PostgreSQL binaries (initdb, pg_ctl) found, and installing them needs root"
    command -v apt-get >/dev/null 2>&1 || die "no PostgreSQL binaries found and no apt-get to install them"
    log "installing Debian's postgresql package (no default cluster)"
    mkdir -p /etc/postgresql-common
    [[ -f /etc/postgresql-common/createcluster.conf ]] || echo "create_main_cluster = false" \
        > /etc/postgresql-common/createcluster.conf
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends postgresql >&2 \
        || { apt-get -o DPkg::Lock::Timeout=600 update -q >&2 && apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends postgresql >&2; } \
        || die "apt-get could not install postgresql"
    BIN="$(find_bin)"
    [[ -n "$BIN" ]] || die "postgresql was installed but initdb is still not found"
fi

# As root, run the server as the unprivileged `postgres` user.
AS=()
if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres \
        || die "cannot create the postgres system user"
    AS=(runuser -u postgres --)
fi

mkdir -p "$DATA"
if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$DATA"
    "${AS[@]}" test -w "$DATA" || die "the postgres user cannot write $DATA (is its parent traversable?)"
fi
chmod 700 "$DATA"

if [[ ! -f "$DATA/PG_VERSION" ]]; then
    log "initdb $DATA"
    "${AS[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$DATA.initdb.log" 2>&1 \
        || die "initdb failed: $(tail -n 5 "$DATA.initdb.log")"
fi

echo "$BIN" >"$DATA.bin"  # for stop.sh
if "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "already running ($DATA)"
else
    log "starting on 127.0.0.1:$PORT"
    "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t "$WAIT" \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories='$DATA' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2 || die "the server did not start: $(tail -n 5 "$DATA/server.log" 2>/dev/null)"
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
