#!/usr/bin/env bash
# Makes sure the local control plane binaries are in the per-machine cache; builds what is
# missing (cold: ~see cluster/README.md on 2 cores), reuses the rest. Idempotent; safe to run
# from CI before the tests.
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
if binaries_present; then
  log "cluster/ensure: reusing cached binaries in $TENKAI_CACHE/bin (k8s $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
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

mkdir -p "$TENKAI_CACHE"
# One build at a time per machine: a second ensure.sh waits, then finds the cache filled.
exec 9>"$TENKAI_CACHE/build.lock"
if ! flock -n 9; then log "cluster/ensure: another build holds $TENKAI_CACHE/build.lock; waiting"; flock 9; fi
if binaries_present; then log "cluster/ensure: built by another process; reusing"; exit 0; fi

log "cluster/ensure: building into $TENKAI_CACHE/bin with go $have on $(nproc) cores (GOFLAGS=-trimpath, -p ${TENKAI_BUILD_JOBS:-2})"
bash "$cluster_root/build/build.sh" etcd kwok kubernetes
binaries_present || die "build finished but binaries are missing from $TENKAI_CACHE/bin"
log "cluster/ensure: done in $((SECONDS - t0))s"
