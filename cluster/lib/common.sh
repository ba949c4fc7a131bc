# Shared by cluster/*.sh: versions, cache paths and small helpers. Source it, don't run it.
cluster_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../build/versions.env
. "$cluster_root/build/versions.env"
TENKAI_CACHE="${TENKAI_CACHE:-$HOME/.cache/tenkai}"
K8S_BIN="$TENKAI_CACHE/bin/k8s-$KUBERNETES_VERSION"
ETCD_BIN="$TENKAI_CACHE/bin/etcd-$ETCD_VERSION"
KWOK_BIN="$TENKAI_CACHE/bin/kwok-$KWOK_VERSION"
LAST_CLUSTER_FILE="$TENKAI_CACHE/last-cluster"
# Start and stop order; down goes in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '%s\n' "$*" >&2; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# Milliseconds since the epoch (GNU date).
now_ms() { date +%s%3N; }

# True when the binaries for the pinned versions are all in the cache.
binaries_present() {
  local f
  for f in "$K8S_BIN/.complete" "$ETCD_BIN/.complete" "$KWOK_BIN/.complete"; do [ -f "$f" ] || return 1; done
}

# pid_alive <dir> <component>: the PID in the component's pid file is running AND is the process
# this cluster started (its command line names the cluster dir), so a recycled PID is never touched.
pid_alive() {
  local pidfile="$1/run/$2.pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$1/" || return 1
}
