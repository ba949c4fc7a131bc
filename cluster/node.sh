#!/usr/bin/env bash
# Real nodes for a local cluster started by cluster/up.sh: each node is its own network namespace
# with an address on the cluster's host bridge, and runs containerd, kubelet, kube-proxy and the
# NetworkPolicy agent (kube-router, firewall only) from the binaries cluster/ensure.sh caches.
#
#   node.sh up   --dir DIR --name NAME [--label k=v]... [--taint k=v:Effect]... [--max-pods N]
#                [--kube-reserved cpu=70m,memory=16537Mi]   (the kubelet's kubeReserved)
#                [--version vX.Y.Z]
#       Starts one node; prints one JSON line {"name","address","podCIDR"} once its processes run
#       and it has a pod CIDR (the caller waits for Ready through the API). Its kubelet and
#       kube-proxy are of --version (default: the control plane's, DIR/version.env).
#   node.sh down --dir DIR --name NAME     stops the node and removes what it made (idempotent)
#   node.sh list --dir DIR                 one JSON line per node {"name","address","podCIDR","running"}
#
# Needs root (namespaces, routes, iptables) and runc, iptables, ipset, conntrack
# (bash cluster/node-deps.sh). On failure exits non-zero naming the component and its log tail.
# -E: the ERR trap below also fires inside functions (without it a failure there ended the
# script with exit 1 and nothing on stderr, seen twice in parallel test runs).
set -Eeuo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/net.sh
. "$cluster_root/lib/net.sh"
# A command that fails outside die/fail (set -e) must not end the script without a word: say which.
trap 'echo "node.sh: exit $? at line $LINENO: $BASH_COMMAND" >&2' ERR

NODE_COMPONENTS=(containerd kubelet kube-proxy kube-router)

usage() { sed -n '2,17p' "$0" >&2; exit 2; }
cmd="${1:-}"; [ -n "$cmd" ] || usage; shift
dir="${TENKAI_CLUSTER_DIR:-}"; name=""; labels=(); taints=(); max_pods=110; kube_reserved=""; node_version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --label) labels+=("$2"); shift 2 ;;
    --taint) taints+=("$2"); shift 2 ;;
    --max-pods) max_pods="$2"; shift 2 ;;
    --kube-reserved) kube_reserved="$2"; shift 2 ;;
    --version) node_version="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) die "node: unknown argument $1" ;;
  esac
done
[ -n "$dir" ] || die "node: --dir DIR is required (the directory cluster/up.sh made)"
[ -z "$kube_reserved" ] || [[ "$kube_reserved" =~ ^((cpu|memory)=[0-9]+(m|Ki|Mi|Gi)?)(,(cpu|memory)=[0-9]+(m|Ki|Mi|Gi)?)*$ ]] ||
  die "node: --kube-reserved $kube_reserved is not cpu=QUANTITY,memory=QUANTITY (for example cpu=70m,memory=16537Mi)"
[ -d "$dir" ] || die "node: $dir does not exist"
dir="$(cd "$dir" && pwd)"
# The control plane's version (cluster/up.sh, cluster/control-plane.sh write it); nodes default to it.
cluster_version="$(sed -n 's/^KUBERNETES_VERSION=//p' "$dir/version.env" 2>/dev/null || true)"
if [ -n "$cluster_version" ] && [ -f "$TENKAI_CACHE/bin/k8s-$cluster_version/.complete" ]; then K8S_BIN="$TENKAI_CACHE/bin/k8s-$cluster_version"; fi
node_version="${node_version:-${cluster_version:-$KUBERNETES_VERSION}}"
[[ "$node_version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "node: --version $node_version is not a Kubernetes release like v1.36.3"
node_version="v${node_version#v}"
K8S_NODE_BIN="$TENKAI_CACHE/bin/k8s-node-$node_version"

node_json() { # <name>: one JSON line for a node directory
  local nd="$dir/nodes/$1" running=false c
  # shellcheck source=/dev/null
  ( . "$nd/node.env"
    for c in "${NODE_COMPONENTS[@]}"; do pid_alive "$nd" "$c" && running=true; done
    printf '{"name":"%s","address":"%s","podCIDR":"%s","running":%s}\n' "$NODE_NAME" "$NODE_IP" "${POD_CIDR:-}" "$running" )
}

if [ "$cmd" = list ]; then
  for nd in "$dir"/nodes/*/; do [ -f "$nd/node.env" ] && node_json "$(basename "$nd")"; done
  exit 0
fi

[ -n "$name" ] || die "node: --name NAME is required"
[[ "$name" =~ ^[a-z0-9]([-a-z0-9.]{0,40}[a-z0-9])?$ ]] || die "node: --name $name is not a valid node name (lowercase letters, digits, '-', '.', at most 42 characters)"
nd="$dir/nodes/$name"

# ---------- down ----------
node_down() {
  [ -f "$nd/node.env" ] || { log "node: $name has no state in $dir; nothing to stop"; return 0; }
  # shellcheck source=/dev/null
  . "$nd/node.env"
  local c pid i
  # kubelet first, so it does not restart what we stop; containerd last.
  for c in kubelet kube-proxy kube-router; do
    if pid_alive "$nd" "$c"; then pid="$(cat "$nd/run/$c.pid")"; kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for c in kubelet kube-proxy kube-router; do
    if pid_alive "$nd" "$c"; then
      pid="$(cat "$nd/run/$c.pid")"
      for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$nd/run/$c.pid"
  done
  # Containers: kill every process in the node's pod cgroups (all hierarchies share the tree).
  local cg="/sys/fs/cgroup/pids$CGROUP_ROOT"
  if [ -d "$cg" ]; then find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true; fi
  if pid_alive "$nd" containerd; then
    pid="$(cat "$nd/run/containerd.pid")"; kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$nd/run/containerd.pid"
  # Shims and anything else left in the node's namespace.
  if [ -e "/run/netns/$NETNS" ]; then ip netns pids "$NETNS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true; fi
  # Mounts under the node directory (pod volumes, container root filesystems, pod netns), deepest first.
  awk -v p="$nd/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # Empty cgroups, deepest first.
  local h
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h${CGROUP_ROOT#/}" ] || continue
    find "$h${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  if [ -n "${POD_CIDR:-}" ]; then ip route del "$POD_CIDR" via "$NODE_IP" 2>/dev/null || true; fi
  ip link del "$VETH" 2>/dev/null || true
  ip netns del "$NETNS" 2>/dev/null || true
  log "node: $name stopped ($NODE_IP${POD_CIDR:+, pods $POD_CIDR})"
}

if [ "$cmd" = down ]; then node_down; exit 0; fi
[ "$cmd" = up ] || usage

# ---------- up ----------
t_start="$(now_ms)"
# Labels a kubelet may set on its own Node (the NodeRestriction admission plugin and the kubelet's
# own --node-labels check refuse other kubernetes.io / k8s.io labels).
kubelet_label_allowed() {
  local key="$1" ns
  case "$key" in */*) ns="${key%%/*}" ;; *) return 0 ;; esac
  case "$ns" in kubernetes.io|*.kubernetes.io|k8s.io|*.k8s.io) ;; *) return 0 ;; esac
  case "$key" in
    kubernetes.io/hostname|kubernetes.io/arch|kubernetes.io/os|beta.kubernetes.io/arch|beta.kubernetes.io/os|\
    beta.kubernetes.io/instance-type|node.kubernetes.io/instance-type|failure-domain.beta.kubernetes.io/zone|\
    failure-domain.beta.kubernetes.io/region|topology.kubernetes.io/zone|topology.kubernetes.io/region) return 0 ;;
  esac
  case "$ns" in kubelet.kubernetes.io|*.kubelet.kubernetes.io|node.kubernetes.io|*.node.kubernetes.io) return 0 ;; esac
  return 1
}
for l in "${labels[@]}"; do
  [[ "$l" == *=* ]] || die "node: --label $l: want key=value"
  kubelet_label_allowed "${l%%=*}" || die "node: --label $l: a kubelet may not set the label ${l%%=*} on its own Node (NodeRestriction admission; allowed under kubernetes.io/k8s.io are kubernetes.io/hostname|arch|os, topology.kubernetes.io/zone|region, node.kubernetes.io/instance-type and the kubelet.kubernetes.io/ and node.kubernetes.io/ prefixes); set it afterwards as an admin: kubectl label node $name ${l}"
done
for t in "${taints[@]}"; do
  [[ "$t" =~ ^[^=:]+(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$ ]] || die "node: --taint $t: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute"
done

problems="$(net_missing)"
[ -z "$problems" ] || die "node: real nodes cannot run on this machine; missing: $(echo "$problems" | paste -sd';' | sed 's/;/; /g')"
[ -f "$dir/net.env" ] || die "node: $dir has no net.env: the cluster was started without real-node networking (cluster/up.sh as root makes it)"
# shellcheck source=/dev/null
. "$dir/net.env"
# shellcheck source=/dev/null
. "$dir/ports.env"
[ -f "$K8S_NODE_BIN/.complete" ] || die "node: kubelet and kube-proxy $node_version are not in $K8S_NODE_BIN; build them: TENKAI_KUBERNETES_VERSION=$node_version bash $cluster_root/build/build.sh kubernetes-node"
node_binaries_present || die "node: real-node binaries are not in $TENKAI_CACHE; run: bash cluster/ensure.sh"
ip link show "$BRIDGE" >/dev/null 2>&1 || die "node: bridge $BRIDGE of $dir is gone (was the cluster stopped?)"
pid_alive "$dir" kube-apiserver || die "node: the cluster in $dir is not running (no kube-apiserver)"
for c in "${NODE_COMPONENTS[@]}"; do
  if pid_alive "$nd" "$c"; then die "node: $name is already running in $dir ($c pid $(cat "$nd/run/$c.pid")); stop it with: node.sh down --dir $dir --name $name"; fi
done

# ---------- allocate: node index, address, namespace ----------
mkdir -p "$dir/nodes"
exec 7>"$dir/nodes/.lock"; flock 7
if [ -f "$nd/node.env" ]; then
  # shellcheck source=/dev/null
  . "$nd/node.env"
else
  used=" $(cat "$dir"/nodes/*/node.env "$dir"/clients/*/client.env 2>/dev/null | sed -n 's/^NODE_INDEX=//p' | tr '\n' ' ' || true) "
  idx=""
  for (( i=2; i<255; i++ )); do case "$used" in *" $i "*) ;; *) idx="$i"; break ;; esac; done
  [ -n "$idx" ] || die "node: no free address on $BRIDGE_CIDR"
  NODE_INDEX="$idx"; NODE_NAME="$name"; NODE_IP="10.64.$NET_INDEX.$idx"
  NETNS="tenkai$NET_INDEX-$name"; VETH="tk${NET_INDEX}n$idx"; CGROUP_ROOT="/tenkai$NET_INDEX-$name"
  mkdir -p "$nd"
  cat > "$nd/node.env" <<ENV
NODE_NAME=$NODE_NAME
NODE_INDEX=$NODE_INDEX
NODE_IP=$NODE_IP
NETNS=$NETNS
VETH=$VETH
CGROUP_ROOT=$CGROUP_ROOT
ENV
fi
flock -u 7; exec 7>&-
rm -rf "$nd/run" "$nd/logs"; mkdir -p "$nd/run" "$nd/logs" "$nd/pki"
sed -i '/^POD_CIDR=/d' "$nd/node.env"; POD_CIDR=""

fail() { # <component> <reason>
  log "node: $name: $1 failed: $2"
  if [ -f "$nd/logs/$1.log" ]; then log "node: last 30 lines of $nd/logs/$1.log:"; tail -n 30 "$nd/logs/$1.log" >&2 || true; fi
  if [ -z "${TENKAI_CLUSTER_KEEP_ON_FAILURE:-}" ]; then node_down >&2 || true; fi
  exit 1
}
trap 'log "node: interrupted; stopping $name"; node_down >&2 || true; exit 130' INT TERM

# Network namespace with one veth to the bridge; the host routes between nodes.
ip netns del "$NETNS" 2>/dev/null || true
ip link del "$VETH" 2>/dev/null || true
ip netns add "$NETNS"
ip link add "$VETH" type veth peer name eth0 netns "$NETNS"
ip link set "$VETH" master "$BRIDGE" up
nsx() { nsenter --net="/run/netns/$NETNS" "$@"; }
# Every kubelet (cAdvisor, certificate watchers) and containerd takes inotify instances from one
# machine-wide budget (fs.inotify is not per network namespace); Debian's default of 128 runs out
# at a handful of real nodes ("Failed to start cAdvisor: inotify_init: too many open files").
# Raised, never lowered, to the values kind's known-issues page gives for many nodes on one host.
raise_sysctl() { local cur; cur="$(sysctl -n "$1" 2>/dev/null || echo 0)"; [ "$cur" -ge "$2" ] || sysctl -qw "$1=$2" || true; }
raise_sysctl fs.inotify.max_user_instances 512
raise_sysctl fs.inotify.max_user_watches 524288
nsx ip link set lo up
nsx ip addr add "$NODE_IP/24" dev eth0
nsx ip link set eth0 up
nsx ip route add default via "$BRIDGE_IP"
nsx sysctl -qw net.ipv4.ip_forward=1
# Bridged pod-to-pod traffic on this node must pass iptables (kube-proxy, NetworkPolicy).
nsx sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || { modprobe br_netfilter 2>/dev/null || true; nsx sysctl -qw net.bridge.bridge-nf-call-iptables=1; }
nsx sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

# The kubelet's cgroup root, in every v1 hierarchy (cpuset needs its cpus and mems set first).
for h in /sys/fs/cgroup/*/; do
  case "$h" in */unified/) continue ;; esac
  mkdir -p "$h${CGROUP_ROOT#/}"
  if [ -f "${h}cpuset.cpus" ]; then
    cat "${h}cpuset.cpus" > "$h${CGROUP_ROOT#/}/cpuset.cpus"
    cat "${h}cpuset.mems" > "$h${CGROUP_ROOT#/}/cpuset.mems"
  fi
done

# ---------- certificates and kubeconfigs ----------
pki="$dir/pki"
sign_client() { # <file-prefix> <subject>
  [ -f "$1.crt" ] && return 0
  # A random serial, not -CAcreateserial: nodes starting in parallel would race on one ca.srl.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 16)" -days 3650 \
    -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n') \
    -out "$1.crt" 2>/dev/null
  rm -f "$1.csr"
}
sign_client "$nd/pki/kubelet" "/O=system:nodes/CN=system:node:$name"
# Shared by every node of the cluster: made once, under a lock (nodes may start in parallel).
exec 7>"$dir/nodes/.lock"; flock 7
sign_client "$pki/kube-proxy" "/CN=system:kube-proxy"
sign_client "$pki/kube-router" "/CN=tenkai:kube-router"
server="https://$BRIDGE_IP:$API_PORT"
node_kubeconfig() { # <file> <cert-prefix>
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: tenkai-local
  cluster: {server: "$server", certificate-authority: "$pki/ca.crt"}
users:
- name: node
  user: {client-certificate: "$2.crt", client-key: "$2.key"}
contexts:
- name: tenkai-local
  context: {cluster: tenkai-local, user: node}
current-context: tenkai-local
KC
}
node_kubeconfig "$nd/kubelet.kubeconfig" "$nd/pki/kubelet"
node_kubeconfig "$nd/kube-proxy.kubeconfig" "$pki/kube-proxy"
node_kubeconfig "$nd/kube-router.kubeconfig" "$pki/kube-router"
kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$dir/kubeconfig" --request-timeout=5s "$@"; }

# The NetworkPolicy agent's read access, once per cluster (kube-proxy's is bootstrap policy).
if [ ! -f "$dir/run/kube-router-rbac.applied" ]; then
  kubectl apply --server-side --field-manager=tenkai-cluster -f - >"$nd/logs/rbac.log" 2>&1 <<'RBAC' || fail rbac "could not apply the kube-router ClusterRole: $(tail -n 3 "$nd/logs/rbac.log")"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "tenkai:kube-router"}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "tenkai:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "tenkai:kube-router"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "tenkai:kube-router"}
RBAC
  touch "$dir/run/kube-router-rbac.applied"
fi
flock -u 7; exec 7>&-

# ---------- containerd ----------
# shellcheck source=images/images.env
. "$cluster_root/images/images.env"
sock="$nd/containerd.sock"
mkdir -p "$nd/containerd" "$nd/cni/net.d" "$nd/cni/ipam" "$nd/cni/cache"
cat > "$nd/containerd.toml" <<TOML
version = 3
root = "$nd/containerd/root"
state = "$nd/containerd/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = "$nd/containerd/opt"
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "$PAUSE_IMAGE"
  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    disable_apparmor = true
    netns_mounts_under_state_dir = true
    # Without CAP_SYS_RESOURCE (as on this machine) nothing may lower oom_score_adj below its
    # parent's (the pause container's -998 fails with EPERM): keep pods at containerd's or above.
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "$(command -v runc)"
          Root = "$nd/containerd/runc"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["$CNI_BIN"]
      conf_dir = "$nd/cni/net.d"
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
TOML

start() { # <component> <binary> <args...>: in the node's network namespace, in its own session
  local c="$1" bin="$2"; shift 2
  PATH="$CONTAINERD_BIN:$PATH" setsid nsenter --net="/run/netns/$NETNS" "$bin" "$@" > "$nd/logs/$c.log" 2>&1 < /dev/null &
  echo $! > "$nd/run/$c.pid"
  wait_started "$nd" "$c"
}
wait_until() { # <component> <timeout-s> <command...>
  local c="$1" t="$2" deadline=$(( $(date +%s) + $2 )); shift 2
  until "$@" >/dev/null 2>&1; do
    pid_alive "$nd" "$c" || fail "$c" "process exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$c" "not ready within ${t}s: $*"
    sleep 0.1
  done
}
start containerd "$CONTAINERD_BIN/containerd" --config "$nd/containerd.toml" --log-level warn
ctr() { "$CONTAINERD_BIN/ctr" --address "$sock" --namespace k8s.io "$@"; }
wait_until containerd 30 ctr version
for img in pause probe coredns; do
  ctr images import --no-unpack=false "$IMAGES_DIR/$img.tar" >> "$nd/logs/images.log" 2>&1 || fail images "ctr images import $IMAGES_DIR/$img.tar"
done

# ---------- kubelet ----------
{
  cat <<KUBELET
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine runs cgroup v1: supported in maintenance mode, enabled explicitly.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: "$CGROUP_ROOT"
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
containerRuntimeEndpoint: "unix://$sock"
podLogsDir: "$nd/pod-logs"
address: "$NODE_IP"
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
clusterDNS: ["$DNS_IP"]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
maxPods: $max_pods
failSwapOn: false
# Many nodes share one disk and one memory: don't evict or collect images over what the others use.
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 60s
shutdownGracePeriod: 0s
KUBELET
  if [ -n "$kube_reserved" ]; then
    # Allocatable = capacity - kubeReserved - evictionHard: the instance type's, not the machine's.
    echo "kubeReserved:"
    IFS=, read -r -a reserved <<< "$kube_reserved"
    for r in "${reserved[@]}"; do
      printf '  %s: "%s"\n' "${r%%=*}" "${r#*=}"
    done
  fi
  if [ "${#taints[@]}" -gt 0 ]; then
    echo "registerWithTaints:"
    for t in "${taints[@]}"; do
      kv="${t%:*}"; eff="${t##*:}"; k="${kv%%=*}"; v=""; [[ "$kv" == *=* ]] && v="${kv#*=}"
      printf -- '- {key: "%s", value: "%s", effect: "%s"}\n' "$k" "$v" "$eff"
    done
  fi
} > "$nd/kubelet.yaml"
node_labels="$(IFS=,; echo "${labels[*]:-}")"
start kubelet "$K8S_NODE_BIN/kubelet" \
  --config="$nd/kubelet.yaml" --kubeconfig="$nd/kubelet.kubeconfig" --root-dir="$nd/kubelet" \
  --cert-dir="$nd/kubelet/pki" --hostname-override="$name" --node-ip="$NODE_IP" \
  ${node_labels:+--node-labels="$node_labels"} --v=1

# The controller-manager gives the registered Node a pod CIDR; only then can pods get addresses.
deadline=$(( $(date +%s) + 60 ))
while :; do
  POD_CIDR="$(kubectl get node "$name" -o 'jsonpath={.spec.podCIDR}' 2>/dev/null || true)"
  [ -n "$POD_CIDR" ] && break
  pid_alive "$nd" kubelet || fail kubelet "process exited before the Node registered"
  [ "$(date +%s)" -lt "$deadline" ] || fail kubelet "Node $name did not register with a pod CIDR within 60s (controller-manager --allocate-node-cidrs)"
  sleep 0.2
done
echo "POD_CIDR=$POD_CIDR" >> "$nd/node.env"
ip route replace "$POD_CIDR" via "$NODE_IP" dev "$BRIDGE"
cat > "$nd/cni/net.d/10-tenkai.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "tenkai",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$nd/cni/ipam"}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CNI

# ---------- kube-proxy and the NetworkPolicy agent ----------
cat > "$nd/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$nd/kube-proxy.kubeconfig"}
hostnameOverride: "$name"
bindAddress: 0.0.0.0
mode: iptables
clusterCIDR: "$CLUSTER_CIDR"
healthzBindAddress: 0.0.0.0:10256
metricsBindAddress: 127.0.0.1:10249
# conntrack limits are machine-wide and shared by every node: leave them alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 0s}
KP
start kube-proxy "$K8S_NODE_BIN/kube-proxy" --config="$nd/kube-proxy.yaml" --v=1
start kube-router "$KUBE_ROUTER_BIN/kube-router" \
  --kubeconfig="$nd/kube-router.kubeconfig" --hostname-override="$name" \
  --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
  --enable-pod-egress=false --service-cluster-ip-range="$SERVICE_CIDR" --health-port=20244 --v=1
wait_until kubelet 30 nsx curl -fsS --max-time 1 http://127.0.0.1:10248/healthz
wait_until kube-proxy 30 nsx curl -fsS --max-time 1 http://127.0.0.1:10256/healthz
wait_until kube-router 30 nsx curl -fsS --max-time 1 http://127.0.0.1:20244/healthz
for c in "${NODE_COMPONENTS[@]}"; do pid_alive "$nd" "$c" || fail "$c" "process exited"; done
trap - INT TERM
log "node: $name up in $(( $(now_ms) - t_start )) ms: kubelet $node_version, $NODE_IP, pods $POD_CIDR (namespace $NETNS, logs $nd/logs)"
node_json "$name"
