#!/usr/bin/env bash
# Moves the control plane of a local cluster (cluster/up.sh) to another Kubernetes version in place:
# kube-apiserver, then kube-controller-manager, then kube-scheduler are stopped and started again
# from the other version's binaries with the arguments up.sh gave them (DIR/run/<component>.args):
# same ports, same certificates, same etcd (etcd is not touched; its data directory stays).
#
#   control-plane.sh version --dir DIR
#       prints {"version":"vX.Y.Z","components":{"kube-apiserver":"vX.Y.Z",...}} (what each runs)
#   control-plane.sh upgrade --dir DIR --to vX.Y.Z [--timeout SECONDS]
#       moves every component not yet on vX.Y.Z, one at a time, each only after the one before is
#       healthy: the apiserver's /readyz answers and its /version says vX.Y.Z; the controller-manager's
#       and scheduler's /healthz answer. Idempotent: a component already on vX.Y.Z is left alone, so
#       a run stopped half-way is finished by running it again. Prints the `version` line at the end.
#
# The binaries must be in the cache (TENKAI_KUBERNETES_VERSION=vX.Y.Z bash cluster/build/build.sh
# kubernetes kubernetes-node). On failure exits non-zero naming the component and its log tail.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

UPGRADED=(kube-apiserver kube-controller-manager kube-scheduler)
usage() { sed -n '2,16p' "$0" >&2; exit 2; }
cmd="${1:-}"; [ -n "$cmd" ] || usage; shift
dir="${TENKAI_CLUSTER_DIR:-}"; to=""; timeout_s=120
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --to) to="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) die "control-plane: unknown argument $1" ;;
  esac
done
[ -n "$dir" ] || die "control-plane: --dir DIR is required (the directory cluster/up.sh made)"
[ -d "$dir" ] || die "control-plane: $dir does not exist"
dir="$(cd "$dir" && pwd)"
# shellcheck source=/dev/null
. "$dir/ports.env"

# The version a running component's binary belongs to: its path is .../bin/k8s-<version>/<name>.
running_version() { # <component>
  local pid exe
  pid_alive "$dir" "$1" || { echo "stopped"; return; }
  pid="$(cat "$dir/run/$1.pid")"
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  exe="${exe%/*}"; exe="${exe##*/k8s-}"
  echo "${exe:-unknown}"
}
version_json() {
  local c sep="" v
  v="$(sed -n 's/^KUBERNETES_VERSION=//p' "$dir/version.env" 2>/dev/null || true)"
  printf '{"version":"%s","components":{' "${v:-unknown}"
  for c in "${UPGRADED[@]}"; do printf '%s"%s":"%s"' "$sep" "$c" "$(running_version "$c")"; sep=","; done
  printf '}}\n'
}
if [ "$cmd" = version ]; then version_json; exit 0; fi
[ "$cmd" = upgrade ] || usage

[ -n "$to" ] || die "control-plane: --to vX.Y.Z is required"
[[ "$to" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "control-plane: --to $to is not a Kubernetes release like v1.36.3"
to="v${to#v}"
bin="$TENKAI_CACHE/bin/k8s-$to"
[ -f "$bin/.complete" ] || die "control-plane: the binaries of kubernetes $to are not in $bin; build them: TENKAI_KUBERNETES_VERSION=$to bash $cluster_root/build/build.sh kubernetes kubernetes-node"
pid_alive "$dir" etcd || die "control-plane: etcd of $dir is not running; start the cluster first (cluster/up.sh --dir $dir)"
for c in "${UPGRADED[@]}"; do
  [ -f "$dir/run/$c.args" ] || die "control-plane: $dir/run/$c.args is missing: the cluster was started by an older cluster/up.sh; restart it to record its arguments"
done

pki="$dir/pki"
server="$(sed -n 's/^ *server: //p' "$dir/kubeconfig" | head -n1)"
client=(--cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key")
deadline=$(( $(date +%s) + timeout_s ))
fail() { # <component> <reason>
  log "control-plane: $1 failed: $2"
  log "control-plane: last 30 lines of $dir/logs/$1.log:"
  tail -n 30 "$dir/logs/$1.log" >&2 || true
  exit 1
}
stop() { # <component>
  local pid
  pid_alive "$dir" "$1" || return 0
  pid="$(cat "$dir/run/$1.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/run/$1.pid"
}
start() { # <component>
  local args=()
  mapfile -t args < "$dir/run/$1.args"
  printf '\n--- %s: started from %s ---\n' "$(date -u +%FT%TZ)" "$bin/$1" >> "$dir/logs/$1.log"
  setsid "$bin/$1" "${args[@]}" >> "$dir/logs/$1.log" 2>&1 < /dev/null &
  echo $! > "$dir/run/$1.pid"
  wait_started "$dir" "$1"
}
wait_until() { # <component> <what> <command...>
  local c="$1" what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    pid_alive "$dir" "$c" || fail "$c" "process exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$c" "$what not within ${timeout_s}s"
    sleep 0.2
  done
}
api_on_target() {
  curl -fsS --max-time 2 "${client[@]}" "$server/readyz" >/dev/null &&
    curl -fsS --max-time 2 "${client[@]}" "$server/version" | grep -q "\"gitVersion\": *\"$to\""
}

t_start="$(now_ms)"
for c in "${UPGRADED[@]}"; do
  have="$(running_version "$c")"
  if [ "$have" = "$to" ]; then log "control-plane: $c already runs $to"; continue; fi
  log "control-plane: $c $have -> $to"
  stop "$c"
  start "$c"
  case "$c" in
    kube-apiserver) wait_until "$c" "/readyz with /version $to" api_on_target ;;
    kube-controller-manager) wait_until "$c" "/healthz" curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" ;;
    kube-scheduler) wait_until "$c" "/healthz" curl -fsSk --max-time 2 "https://127.0.0.1:$SCHED_PORT/healthz" ;;
  esac
  log "control-plane: $c runs $to"
done
# Healthy again at the end: a component that exited after its turn is caught here.
wait_until kube-apiserver "/readyz with /version $to" api_on_target
echo "KUBERNETES_VERSION=$to" > "$dir/version.env.tmp" && mv "$dir/version.env.tmp" "$dir/version.env"
log "control-plane: $dir runs kubernetes $to (etcd kept) in $(( $(now_ms) - t_start )) ms"
version_json
