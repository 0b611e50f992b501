#!/bin/sh
# Container entrypoint: make sure the replica exists, then run the given advisorgym command.
#   REPLICA (default /data/replica.sqlite), REPLICA_SEED (0), REPLICA_SCALE (the CLI default)
set -eu
REPLICA="${REPLICA:-/data/replica.sqlite}"
if [ ! -f "$REPLICA" ]; then
    echo "entrypoint: no replica at $REPLICA; generating one (seed ${REPLICA_SEED:-0})" >&2
    if [ -n "${REPLICA_SCALE:-}" ]; then
        advisorgym replica generate --out "$REPLICA" --seed "${REPLICA_SEED:-0}" --scale "$REPLICA_SCALE"
    else
        advisorgym replica generate --out "$REPLICA" --seed "${REPLICA_SEED:-0}"
    fi
fi
exec advisorgym "$@"
