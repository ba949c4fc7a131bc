#!/usr/bin/env bash
# Stops a cluster started by cluster/up.sh: its real nodes (cluster/node.sh down), then only the
# processes named in DIR/run/*.pid, and only if they are still the processes up.sh started (their
# command line names DIR); then removes the bridge, routes and iptables rules up.sh made.
#
#   cluster/down.sh [--dir DIR] [--purge]
#
# Without --dir, stops the cluster up.sh started last on this machine. --purge deletes DIR.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/net.sh
. "$cluster_root/lib/net.sh"

dir="${TENKAI_CLUSTER_DIR:-}"; purge=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (usage: down.sh [--dir DIR] [--purge])" ;;
  esac
done
if [ -z "$dir" ]; then
  [ -f "$LAST_CLUSTER_FILE" ] || die "no --dir given and no cluster recorded in $LAST_CLUSTER_FILE"
  dir="$(cat "$LAST_CLUSTER_FILE")"
fi
[ -d "$dir" ] || { log "cluster: $dir does not exist; nothing to stop"; exit 0; }
dir="$(cd "$dir" && pwd)"

# Clients and real nodes first (containers, namespaces, routes), then the control plane, then the bridge.
for cd_ in "$dir"/clients/*/; do
  [ -f "$cd_/client.env" ] && bash "$cluster_root/client.sh" down --dir "$dir" --name "$(basename "$cd_")" || true
done
for nd in "$dir"/nodes/*/; do
  [ -f "$nd/node.env" ] || continue
  bash "$cluster_root/node.sh" down --dir "$dir" --name "$(basename "$nd")" || log "cluster: stopping node $(basename "$nd") failed; continuing"
done
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
net_teardown "$dir"
log "cluster: stopped ${stopped[*]:-nothing} in $dir"
if [ -n "$purge" ]; then
  # Never delete through a mount (a pod volume, a container root filesystem) that is still there.
  if awk -v p="$dir/" 'index($5, p) == 1 { found=1 } END { exit !found }' /proc/self/mountinfo; then
    die "not purging $dir: something is still mounted under it (see /proc/self/mountinfo)"
  fi
  rm -rf "$dir"
  if [ -f "$LAST_CLUSTER_FILE" ] && [ "$(cat "$LAST_CLUSTER_FILE")" = "$dir" ]; then rm -f "$LAST_CLUSTER_FILE"; fi
fi
