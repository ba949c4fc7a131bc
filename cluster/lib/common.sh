# Shared by cluster/*.sh: versions, cache paths and small helpers. Source it, don't run it.
cluster_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../build/versions.env
. "$cluster_root/build/versions.env"
TENKAI_CACHE="${TENKAI_CACHE:-$HOME/.cache/tenkai}"
K8S_BIN="$TENKAI_CACHE/bin/k8s-$KUBERNETES_VERSION"
ETCD_BIN="$TENKAI_CACHE/bin/etcd-$ETCD_VERSION"
KWOK_BIN="$TENKAI_CACHE/bin/kwok-$KWOK_VERSION"
LAST_CLUSTER_FILE="$TENKAI_CACHE/last-cluster"
# Real nodes (cluster/node.sh).
K8S_NODE_BIN="$TENKAI_CACHE/bin/k8s-node-$KUBERNETES_VERSION"
CONTAINERD_BIN="$TENKAI_CACHE/bin/containerd-$CONTAINERD_VERSION"
CNI_BIN="$TENKAI_CACHE/bin/cni-plugins-$CNI_PLUGINS_VERSION"
COREDNS_BIN="$TENKAI_CACHE/bin/coredns-$COREDNS_VERSION"
KUBE_ROUTER_BIN="$TENKAI_CACHE/bin/kube-router-$KUBE_ROUTER_VERSION"
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

# images_key: what the image archives are built from (sources, module pins, CoreDNS version).
images_key() {
  (cd "$cluster_root/images" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.env' \) | LC_ALL=C sort | xargs sha256sum
   echo "coredns $COREDNS_VERSION") | sha256sum | cut -c1-16
}
IMAGES_DIR="$TENKAI_CACHE/images/$(images_key)"

# True when everything a real node runs is in the cache.
node_binaries_present() {
  local f
  for f in "$K8S_NODE_BIN" "$CONTAINERD_BIN" "$CNI_BIN" "$COREDNS_BIN" "$KUBE_ROUTER_BIN" "$IMAGES_DIR"; do
    [ -f "$f/.complete" ] || return 1
  done
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

# wait_started <dir> <component>: returns once the component's process has exec'd its binary (or is
# gone). Between `cmd &` and the exec, the PID runs a copy of the starting shell whose command line
# does not name the cluster dir, and pid_alive would read it as a process that exited: on a busy
# machine that window lasted long enough for the first health check to call a starting etcd or
# controller-manager dead with an empty log.
wait_started() {
  local pid i
  pid="$(cat "$1/run/$2.pid")"
  for ((i = 0; i < 400; i++)); do
    pid_alive "$1" "$2" && return 0
    [ -r "/proc/$pid/cmdline" ] || return 0
    [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 0 # exited, not yet reaped
    sleep 0.05
  done
}
