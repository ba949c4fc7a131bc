#!/usr/bin/env bash
# Stops a cluster started by cluster/up.sh: only the processes named in DIR/run/*.pid, and only
# if they are still the processes up.sh started (their command line names DIR).
#
#   cluster/down.sh [--dir DIR] [--purge]
#
# Without --dir, stops the cluster up.sh started last on this machine. --purge deletes DIR.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

dir="${TENKAI_CLUSTER_DIR:-}"; purge=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (usage: down.sh [--dir DIR] [--purge])" ;;
  esac
done
if [ -z "$dir" ]; then
  [ -f "$LAST_CLUSTER_FILE" ] || die "no --dir given and no cluster recorded in $LAST_CLUSTER_FILE"
  dir="$(cat "$LAST_CLUSTER_FILE")"
fi
[ -d "$dir" ] || { log "cluster: $dir does not exist; nothing to stop"; exit 0; }
dir="$(cd "$dir" && pwd)"

stopped=()
for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do
  c="${COMPONENTS[$i]}"
  if pid_alive "$dir" "$c"; then
    pid="$(cat "$dir/run/$c.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "cluster: $c (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    stopped+=("$c")
  fi
  rm -f "$dir/run/$c.pid"
done
log "cluster: stopped ${stopped[*]:-nothing} in $dir"
if [ -n "$purge" ]; then
  rm -rf "$dir"
  if [ -f "$LAST_CLUSTER_FILE" ] && [ "$(cat "$LAST_CLUSTER_FILE")" = "$dir" ]; then rm -f "$LAST_CLUSTER_FILE"; fi
fi
