#!/usr/bin/env bash
# Builds the local control plane binaries into the per-machine cache, keyed by version:
#   $TENKAI_CACHE/bin/k8s-<v>/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   $TENKAI_CACHE/bin/etcd-<v>/etcd
#   $TENKAI_CACHE/bin/kwok-<v>/kwok
# Each set is built into a temporary directory and renamed into place only when complete, so an
# interrupted build never leaves a half-filled cache. Usage: build.sh [kubernetes|etcd|kwok]...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
cache="${TENKAI_CACHE:-$HOME/.cache/tenkai}"
mkdir -p "$cache/bin"
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -trimpath -mod=readonly"
jobs="${TENKAI_BUILD_JOBS:-2}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

build_set() { # <name> <dest-dir> <module-dir> <ldflags> <pkg>...
  local name="$1" dest="$2" moddir="$3" ldflags="$4"; shift 4
  if [ -f "$dest/.complete" ]; then echo "build: $name cached in $dest"; return 0; fi
  local tmp="$dest.tmp.$$" t0=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp"
  echo "build: $name -> $dest (go build -p $jobs)"
  (cd "$moddir" && go build -p "$jobs" -ldflags "$ldflags" -o "$tmp/" "$@")
  date -u +%Y-%m-%dT%H:%M:%SZ > "$tmp/.complete"
  rm -rf "$dest"; mv "$tmp" "$dest"
  echo "build: $name done in $((SECONDS - t0))s"
}

targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=(etcd kwok kubernetes)
for t in "${targets[@]}"; do
  case "$t" in
    kubernetes)
      minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
      vpkg=k8s.io/component-base/version
      build_set kubernetes "$cache/bin/k8s-$KUBERNETES_VERSION" "$here/kubernetes" \
        "-s -w -X $vpkg.gitVersion=$KUBERNETES_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=$build_date" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ;;
    etcd)
      build_set etcd "$cache/bin/etcd-$ETCD_VERSION" "$here/etcd" \
        "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" go.etcd.io/etcd/server/v3
      # go names the binary after the package path minus its /v3 suffix ("server"): give it its real name.
      if [ -f "$cache/bin/etcd-$ETCD_VERSION/server" ]; then mv "$cache/bin/etcd-$ETCD_VERSION/server" "$cache/bin/etcd-$ETCD_VERSION/etcd"; fi ;;
    kwok)
      build_set kwok "$cache/bin/kwok-$KWOK_VERSION" "$here/kwok" \
        "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" sigs.k8s.io/kwok/cmd/kwok ;;
    *) echo "build: unknown target $t (want kubernetes, etcd or kwok)" >&2; exit 2 ;;
  esac
done
