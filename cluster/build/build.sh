#!/usr/bin/env bash
# Builds the local cluster's binaries into the per-machine cache, keyed by version:
#   $TENKAI_CACHE/bin/k8s-<v>/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   $TENKAI_CACHE/bin/etcd-<v>/etcd
#   $TENKAI_CACHE/bin/kwok-<v>/kwok
# and, for real nodes (cluster/node.sh):
#   $TENKAI_CACHE/bin/k8s-node-<v>/{kubelet,kube-proxy}
#   $TENKAI_CACHE/bin/containerd-<v>/{containerd,containerd-shim-runc-v2,ctr}
#   $TENKAI_CACHE/bin/cni-plugins-<v>/{bridge,loopback,host-local,portmap}
#   $TENKAI_CACHE/bin/coredns-<v>/coredns
#   $TENKAI_CACHE/bin/kube-router-<v>/kube-router
#   $TENKAI_CACHE/images/<hash of cluster/images and the CoreDNS version>/{probe,*.tar}
# Each set is built into a temporary directory and renamed into place only when complete, so an
# interrupted build never leaves a half-filled cache.
# Usage: build.sh [kubernetes|kubernetes-node|etcd|kwok|containerd|cni-plugins|coredns|kube-router|images]...
# TENKAI_KUBERNETES_VERSION=v1.35.4 build.sh kubernetes kubernetes-node builds a second version
# beside the default one, from cluster/build/kubernetes-v1.35.4 (made by gen-gomod.sh kubernetes v1.35.4).
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

# The default Kubernetes version's wrapper module is kubernetes/, another one's kubernetes-<v>/.
kmod="$here/kubernetes"
[ "$KUBERNETES_VERSION" = "$KUBERNETES_DEFAULT_VERSION" ] || kmod="$here/kubernetes-$KUBERNETES_VERSION"
k8s_ldflags() {
  local minor="${KUBERNETES_VERSION#v1.}" vpkg=k8s.io/component-base/version; minor="${minor%%.*}"
  echo "-s -w -X $vpkg.gitVersion=$KUBERNETES_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=$build_date"
}
need_kmod() {
  [ -f "$kmod/go.mod" ] || { echo "build: no wrapper module for kubernetes $KUBERNETES_VERSION in $kmod; run: bash cluster/build/gen-gomod.sh kubernetes $KUBERNETES_VERSION" >&2; exit 2; }
}

# images_key (cluster/lib/common.sh) names the image set by what it is built from.
# shellcheck source=../lib/common.sh
TENKAI_CACHE="$cache" . "$here/../lib/common.sh"

build_images() {
  local dest; dest="$cache/images/$(images_key)"
  if [ -f "$dest/.complete" ]; then echo "build: images cached in $dest"; return 0; fi
  [ -f "$cache/bin/coredns-$COREDNS_VERSION/.complete" ] || build_coredns
  # shellcheck source=../images/images.env
  . "$here/../images/images.env"
  [ "${COREDNS_IMAGE##*:}" = "$COREDNS_VERSION" ] || { echo "build: images.env names $COREDNS_IMAGE but versions.env pins CoreDNS $COREDNS_VERSION" >&2; exit 2; }
  local tmp="$dest.tmp.$$" t0=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp/bin"
  echo "build: images -> $dest"
  (cd "$here/../images" && go build -p "$jobs" -ldflags "-s -w" -o "$tmp/bin/" ./probe ./pause ./mkimage)
  "$tmp/bin/mkimage" -tag "$PAUSE_IMAGE" -out "$tmp/pause.tar" -entrypoint /pause -file "/pause=$tmp/bin/pause"
  "$tmp/bin/mkimage" -tag "$PROBE_IMAGE" -out "$tmp/probe.tar" -entrypoint /probe -file "/probe=$tmp/bin/probe"
  "$tmp/bin/mkimage" -tag "$COREDNS_IMAGE" -out "$tmp/coredns.tar" -entrypoint /coredns -file "/coredns=$cache/bin/coredns-$COREDNS_VERSION/coredns"
  cp "$tmp/bin/probe" "$tmp/probe"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$tmp/.complete"
  rm -rf "$dest"; mkdir -p "$cache/images"; mv "$tmp" "$dest"
  echo "build: images done in $((SECONDS - t0))s"
}
build_coredns() {
  build_set coredns "$cache/bin/coredns-$COREDNS_VERSION" "$here/coredns" \
    "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION" .
}

targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=(etcd kwok kubernetes)
for t in "${targets[@]}"; do
  case "$t" in
    kubernetes)
      need_kmod
      build_set kubernetes "$cache/bin/k8s-$KUBERNETES_VERSION" "$kmod" "$(k8s_ldflags)" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ;;
    kubernetes-node)
      need_kmod
      build_set kubernetes-node "$cache/bin/k8s-node-$KUBERNETES_VERSION" "$kmod" "$(k8s_ldflags)" \
        k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy ;;
    containerd)
      # btrfs needs cgo; everything else containerd ships is pure Go.
      GOFLAGS="$GOFLAGS -tags=no_btrfs" build_set containerd "$cache/bin/containerd-$CONTAINERD_VERSION" "$here/containerd" \
        "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION -X github.com/containerd/containerd/v2/version.Revision=module" \
        github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
        github.com/containerd/containerd/v2/cmd/ctr ;;
    cni-plugins)
      build_set cni-plugins "$cache/bin/cni-plugins-$CNI_PLUGINS_VERSION" "$here/cni-plugins" \
        "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" \
        github.com/containernetworking/plugins/plugins/main/bridge github.com/containernetworking/plugins/plugins/main/loopback \
        github.com/containernetworking/plugins/plugins/ipam/host-local github.com/containernetworking/plugins/plugins/meta/portmap ;;
    coredns) build_coredns ;;
    kube-router)
      build_set kube-router "$cache/bin/kube-router-$KUBE_ROUTER_VERSION" "$here/kube-router" \
        "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
        github.com/cloudnativelabs/kube-router/v2/cmd/kube-router ;;
    images) build_images ;;
    etcd)
      build_set etcd "$cache/bin/etcd-$ETCD_VERSION" "$here/etcd" \
        "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" go.etcd.io/etcd/server/v3
      # go names the binary after the package path minus its /v3 suffix ("server"): give it its real name.
      if [ -f "$cache/bin/etcd-$ETCD_VERSION/server" ]; then mv "$cache/bin/etcd-$ETCD_VERSION/server" "$cache/bin/etcd-$ETCD_VERSION/etcd"; fi ;;
    kwok)
      build_set kwok "$cache/bin/kwok-$KWOK_VERSION" "$here/kwok" \
        "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" sigs.k8s.io/kwok/cmd/kwok ;;
    *) echo "build: unknown target $t (want kubernetes, kubernetes-node, etcd, kwok, containerd, cni-plugins, coredns, kube-router or images)" >&2; exit 2 ;;
  esac
done
