#!/usr/bin/env bash
# Makes sure the local cluster's binaries (control plane, kwok, and what real nodes run: kubelet,
# kube-proxy, containerd, CNI plugins, CoreDNS, kube-router, the images) are in the per-machine
# cache; builds what is missing (cold: see cluster/README.md), reuses the rest. Also installs the
# Debian packages real nodes need (cluster/node-deps.sh). Idempotent; safe to run from CI before
# the tests. TENKAI_SKIP_REAL_NODES=1 builds only the control plane and kwok.
#
#   bash cluster/ensure.sh
#
# Exit status: 0 when the binaries are ready, or when Go is not installed (then the integration
# tests skip themselves with that reason, which this script prints too); 1 when a build fails.
# Needs only Go (>= the go directive of cluster/build/*/go.mod) and the Go module proxy.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

t0=$SECONDS
want_nodes=""; [ -n "${TENKAI_SKIP_REAL_NODES:-}" ] || want_nodes=1
[ -z "$want_nodes" ] || bash "$cluster_root/node-deps.sh" || log "cluster/ensure: node-deps.sh failed; real-node tests will skip"
# The upgrade tests start a cluster one minor back and move it to $KUBERNETES_VERSION: that
# version's control plane (and kubelet/kube-proxy for real nodes) is built beside the default one.
# TENKAI_SKIP_UPGRADE_VERSION=1 leaves it out (the upgrade-run-local test then skips, saying so).
from_version="${TENKAI_UPGRADE_FROM_VERSION:-v1.35.4}"
from_present() {
  [ -n "${TENKAI_SKIP_UPGRADE_VERSION:-}" ] && return 0
  [ -f "$TENKAI_CACHE/bin/k8s-$from_version/.complete" ] || return 1
  [ -z "$want_nodes" ] || [ -f "$TENKAI_CACHE/bin/k8s-node-$from_version/.complete" ]
}
all_present() { binaries_present && { [ -z "$want_nodes" ] || node_binaries_present; } && from_present; }
if all_present; then
  log "cluster/ensure: reusing cached binaries in $TENKAI_CACHE/bin (k8s $KUBERNETES_VERSION and $from_version, etcd $ETCD_VERSION, kwok $KWOK_VERSION${want_nodes:+, containerd $CONTAINERD_VERSION, CNI plugins $CNI_PLUGINS_VERSION, CoreDNS $COREDNS_VERSION, kube-router $KUBE_ROUTER_VERSION})"
  exit 0
fi
if ! command -v go >/dev/null; then
  log "cluster/ensure: SKIP: Go is not installed, so the local cluster cannot be built; integration tests will be skipped"
  exit 0
fi
need="$(sed -n 's/^go \(.*\)$/\1/p' "$cluster_root/build/kubernetes/go.mod")"
have="$(GOTOOLCHAIN=local go env GOVERSION)"; have="${have#go}"
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  log "cluster/ensure: SKIP: Go $have is older than the go $need that kubernetes $KUBERNETES_VERSION needs; integration tests will be skipped"
  exit 0
fi

if [ -n "$want_nodes" ]; then
  for m in containerd cni-plugins coredns kube-router; do
    nneed="$(sed -n 's/^go \(.*\)$/\1/p' "$cluster_root/build/$m/go.mod")"
    if [ "$(printf '%s\n%s\n' "$nneed" "$have" | sort -V | head -n1)" != "$nneed" ]; then
      log "cluster/ensure: SKIP real nodes: Go $have is older than the go $nneed that $m needs; real-node tests will be skipped"
      want_nodes=""; break
    fi
  done
fi

mkdir -p "$TENKAI_CACHE"
# One build at a time per machine: a second ensure.sh waits, then finds the cache filled.
exec 9>"$TENKAI_CACHE/build.lock"
if ! flock -n 9; then log "cluster/ensure: another build holds $TENKAI_CACHE/build.lock; waiting"; flock 9; fi
if all_present; then log "cluster/ensure: built by another process; reusing"; exit 0; fi

log "cluster/ensure: building into $TENKAI_CACHE/bin with go $have on $(nproc) cores (GOFLAGS=-trimpath, -p ${TENKAI_BUILD_JOBS:-2})"
binaries_present || bash "$cluster_root/build/build.sh" etcd kwok kubernetes
binaries_present || die "build finished but binaries are missing from $TENKAI_CACHE/bin"
if [ -n "$want_nodes" ]; then
  bash "$cluster_root/build/build.sh" kubernetes-node containerd cni-plugins coredns kube-router images
  node_binaries_present || die "build finished but real-node binaries are missing from $TENKAI_CACHE"
fi
if ! from_present; then
  TENKAI_KUBERNETES_VERSION="$from_version" bash "$cluster_root/build/build.sh" kubernetes ${want_nodes:+kubernetes-node}
fi
log "cluster/ensure: done in $((SECONDS - t0))s"
