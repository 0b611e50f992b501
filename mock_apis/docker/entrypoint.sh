#!/bin/sh
# Container entrypoint.
#   no arguments: serve the replica at $REPLICA on $ADVISORGYM_HOST:$ADVISORGYM_PORT
#                 (defaults /data/replica.sqlite, 127.0.0.1, 8080), token from the file
#                 $ADVISORGYM_API_TOKEN_FILE (a Docker secret), else $ADVISORGYM_API_TOKEN
#   init-replica: only generate $REPLICA if it is missing, then exit (compose's one-shot `replica` service)
#   arguments:    exec `advisorgym <arguments>`
# Before `serve`, a missing $REPLICA is generated (REPLICA_SEED, default 0; REPLICA_SCALE,
# default the CLI's), written under a temporary name first so a killed start leaves no half file.
set -eu
REPLICA="${REPLICA:-/data/replica.sqlite}"
if [ "$#" -eq 0 ]; then
    set -- serve --host "${ADVISORGYM_HOST:-127.0.0.1}" --port "${ADVISORGYM_PORT:-8080}" --replica "$REPLICA"
fi
if { [ "$1" = serve ] || [ "$1" = init-replica ]; } && [ ! -f "$REPLICA" ]; then
    echo "entrypoint: no replica at $REPLICA; generating one (seed ${REPLICA_SEED:-0}, scale ${REPLICA_SCALE:-default})" >&2
    tmp="$REPLICA.partial.$$"
    rm -f "$tmp"
    if [ -n "${REPLICA_SCALE:-}" ]; then
        advisorgym replica generate --out "$tmp" --seed "${REPLICA_SEED:-0}" --scale "$REPLICA_SCALE" >&2
    else
        advisorgym replica generate --out "$tmp" --seed "${REPLICA_SEED:-0}" >&2
    fi
    mv -f "$tmp" "$REPLICA"
fi
[ "$1" != init-replica ] || exit 0
exec advisorgym "$@"
