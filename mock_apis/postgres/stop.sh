#!/usr/bin/env bash
# Stop the server mock_apis/postgres/start.sh started on DATA_DIR (nothing to do if it is not running).
#
#   mock_apis/postgres/stop.sh DATA_DIR
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: stop.sh DATA_DIR" >&2; exit 1; }
DATA="$1"
[[ -f "$DATA/postmaster.pid" ]] || exit 0
BIN="$(cat "$DATA.bin")"  # written by start.sh
AS=()
[[ "$(id -u)" == 0 ]] && AS=(runuser -u postgres --)
"${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
