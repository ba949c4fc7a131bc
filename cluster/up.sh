#!/usr/bin/env bash
# Starts a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) and kwok, from the binaries cluster/ensure.sh caches.
#
#   cluster/up.sh [--dir DIR] [--timeout SECONDS]
#
# DIR (default: a new ${TMPDIR:-/tmp}/tenkai-cluster-XXXXXX) holds certificates, data, logs, PID
# files and the kubeconfig, so several clusters run side by side. Ports are picked free on
# 127.0.0.1. As root it also prepares real nodes (cluster/node.sh): it leases address ranges, makes
# the cluster's host bridge, and the apiserver listens on the bridge address (in the kubeconfig)
# instead of 127.0.0.1; the controller-manager gives each Node a pod CIDR. Returns once every component reports healthy, then prints the kubeconfig path on
# stdout (last line). If a component fails, says which, prints the tail of its log, stops what was
# started and exits 1. Stop with cluster/down.sh [--dir DIR] [--purge].
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/net.sh
. "$cluster_root/lib/net.sh"

dir="${TENKAI_CLUSTER_DIR:-}"
timeout_s="${TENKAI_CLUSTER_TIMEOUT:-90}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (usage: up.sh [--dir DIR] [--timeout SECONDS])" ;;
  esac
done

t_start="$(now_ms)"
binaries_present || die "binaries for kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION are not in $TENKAI_CACHE/bin; run: bash cluster/ensure.sh"
for tool in openssl curl; do command -v "$tool" >/dev/null || die "$tool is required (apt-get install $tool)"; done

auto_dir=""
if [ -z "$dir" ]; then dir="$(mktemp -d "${TMPDIR:-/tmp}/tenkai-cluster-XXXXXX")"; auto_dir=1; fi
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
for c in "${COMPONENTS[@]}"; do
  if pid_alive "$dir" "$c"; then die "a cluster is already running in $dir ($c pid $(cat "$dir/run/$c.pid")); stop it with cluster/down.sh --dir $dir"; fi
done
rm -rf "$dir/run" "$dir/logs" "$dir/etcd-data"
mkdir -p "$dir/pki" "$dir/run" "$dir/logs"
chmod 700 "$dir"
# Interrupted half-way (Ctrl-C, a test runner's kill): stop what was started so far.
trap 'log "cluster: interrupted; stopping what was started in $dir"; bash "$cluster_root/down.sh" --dir "$dir" >&2 || true; exit 130' INT TERM

# ---------- ports ----------
# Ask the kernel for six free ports at once (bind :0, hold all, release), so they differ.
pick_ports() {
  if command -v node >/dev/null; then
    node -e 'const n=require("node:net");const s=[];let k=0;for(let i=0;i<6;i++){const v=n.createServer();s.push(v);v.listen(0,"127.0.0.1",()=>{if(++k===6){console.log(s.map(x=>x.address().port).join(" "));s.forEach(x=>x.close());}});}'
  else
    python3 -c 'import socket;s=[socket.socket() for _ in range(6)];[x.bind(("127.0.0.1",0)) for x in s];print(" ".join(str(x.getsockname()[1]) for x in s))'
  fi
}
read -r ETCD_PORT ETCD_PEER_PORT API_PORT KCM_PORT SCHED_PORT KWOK_PORT < <(pick_ports)
cat > "$dir/ports.env" <<PORTS
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
API_PORT=$API_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
KWOK_PORT=$KWOK_PORT
PORTS
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
POD_CIDR=10.244.0.0/16

# ---------- real-node networking ----------
# As root: lease address ranges, make the host bridge the apiserver listens on, so real nodes
# (cluster/node.sh) and their pods reach it. Without root the cluster is kwok-only, as before.
BRIDGE_IP=""
rm -f "$dir/net.env.tmp"
if net_prepare "$dir"; then
  # shellcheck source=/dev/null
  . "$dir/net.env"
else
  rm -f "$dir/net.env"
  log "cluster: not root: no bridge for real nodes; kwok nodes only (cluster/node.sh needs root)"
fi
listen_ip="${BRIDGE_IP:-127.0.0.1}"

# ---------- certificates ----------
# ECDSA P-256 keys: generating them takes milliseconds, where RSA would dominate the start time.
pki="$dir/pki"
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# sign <name> <subject> <extendedKeyUsage> [subjectAltName]
sign() {
    newkey "$pki/$1.key"
    local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$3"
    [ -n "${4:-}" ] && ext="$ext
subjectAltName=$4"
    openssl req -new -key "$pki/$1.key" -subj "$2" -out "$pki/$1.csr" 2>/dev/null
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
      -extfile <(printf '%s\n' "$ext") -out "$pki/$1.crt" 2>/dev/null
    rm -f "$pki/$1.csr"
}
apiserver_sans="IP:127.0.0.1,IP:$SERVICE_IP${BRIDGE_IP:+,IP:$BRIDGE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
# Made once per directory; sa.pub is written last, so its absence means "(re)make them all".
if [ ! -f "$pki/sa.pub" ] || [ ! -f "$pki/front-proxy-client.crt" ]; then
  newkey "$pki/ca.key"
  openssl req -x509 -new -key "$pki/ca.key" -days 3650 -subj "/CN=tenkai-local-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$pki/ca.crt" 2>/dev/null
  sign apiserver "/CN=kube-apiserver" serverAuth "$apiserver_sans"
  sign admin "/O=system:masters/CN=tenkai-admin" clientAuth
  sign controller-manager "/CN=system:kube-controller-manager" clientAuth
  sign scheduler "/CN=system:kube-scheduler" clientAuth
  # kwok plays every kubelet; the Node authorizer would confine a system:node:<name> identity to
  # one node, so kwok gets its own cluster-admin identity (as in kwok's own kwokctl clusters).
  sign kwok "/O=system:masters/CN=kwok-controller" clientAuth
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  # The aggregation layer's front proxy, as kubeadm and EKS configure it; without it the
  # controller-manager and scheduler log a missing requestheader CA on every request.
  sign front-proxy-client "/CN=front-proxy-client" clientAuth
  newkey "$pki/sa.key"
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi

# A reused directory whose cluster got another bridge address: the serving cert must name it.
if [ -n "$BRIDGE_IP" ] && ! openssl x509 -in "$pki/apiserver.crt" -noout -ext subjectAltName 2>/dev/null | grep -qF "IP Address:$BRIDGE_IP,"; then
  sign apiserver "/CN=kube-apiserver" serverAuth "$apiserver_sans"
fi

server="https://$listen_ip:$API_PORT"
kubeconfig_for() { # <file> <cert-name> <user>
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: tenkai-local
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: $3
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: tenkai-local
  context:
    cluster: tenkai-local
    user: $3
current-context: tenkai-local
KC
}
kubeconfig_for "$dir/kubeconfig" admin tenkai-admin
kubeconfig_for "$dir/run/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
kubeconfig_for "$dir/run/scheduler.kubeconfig" scheduler system:kube-scheduler
kubeconfig_for "$dir/run/kwok.kubeconfig" kwok kwok-controller

cat > "$dir/run/scheduler.yaml" <<SCHED
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $dir/run/scheduler.kubeconfig
  # The default 50 qps makes scheduling 3000 pods take a minute on its own.
  qps: 200
  burst: 400
leaderElection:
  leaderElect: false
SCHED

{
  cat <<KWOK
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  manageAllNodes: false
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  cidr: $POD_CIDR
  nodeIP: 10.0.0.1
  nodeLeaseDurationSeconds: 40
  serverAddress: 127.0.0.1:$KWOK_PORT
  # kwok's defaults, spelled out: a KwokConfiguration read from --config is not defaulted.
  nodeLeaseParallelism: 4
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 4
  podsOnNodeSyncParallelism: 1
KWOK
  for f in "$cluster_root"/stages/*.yaml; do echo "---"; grep -v '^#' "$f"; done
} > "$dir/run/kwok.yaml"

# ---------- start ----------
# The control plane's version, and each component's arguments (one a line): cluster/control-plane.sh
# restarts a component from them with another version's binary; cluster/node.sh starts nodes at it.
echo "KUBERNETES_VERSION=$KUBERNETES_VERSION" > "$dir/version.env"
start() { # <component> <binary> <args...>
  local name="$1" bin="$2"; shift 2
  printf '%s\n' "$@" > "$dir/run/$name.args"
  setsid "$bin" "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/run/$name.pid"
  wait_started "$dir" "$name"
}

start etcd "$ETCD_BIN/etcd" \
  --name=tenkai --data-dir="$dir/etcd-data" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="tenkai=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes=4294967296 --log-level=warn

# The apiserver retries etcd until it answers, so the two start together.
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address="$listen_ip" --secure-port="$API_PORT" --advertise-address="$listen_ip" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP \
  --requestheader-client-ca-file="$pki/ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --api-audiences=https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --endpoint-reconciler-type="$( [ -n "$BRIDGE_IP" ] && echo lease || echo none )" \
  --profiling=false

# ---------- wait ----------
fail() { # <component> <reason>
  log "cluster: $1 is not healthy: $2"
  log "cluster: last 40 lines of $dir/logs/$1.log:"
  tail -n 40 "$dir/logs/$1.log" >&2 || true
  if [ -z "${TENKAI_CLUSTER_KEEP_ON_FAILURE:-}" ]; then
    log "cluster: stopping the components started in $dir (set TENKAI_CLUSTER_KEEP_ON_FAILURE=1 to keep them)"
    bash "$cluster_root/down.sh" --dir "$dir" >&2 || true
  fi
  exit 1
}
deadline=$(( $(date +%s) + timeout_s ))
wait_healthy() { # <component> <curl args...>
  local name="$1" out=""; shift
  while :; do
    pid_alive "$dir" "$name" || fail "$name" "process exited (pid $(cat "$dir/run/$name.pid"))"
    if out="$(curl -fsS --max-time 2 "$@" 2>&1)"; then return 0; fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name" "no healthy answer within ${timeout_s}s: $out"
    sleep 0.2
  done
}
client=(--cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key")
wait_healthy etcd "http://127.0.0.1:$ETCD_PORT/health"
# The controller-manager and scheduler exit when their RBAC roles are not there yet, so they start
# once /readyz says the bootstrap roles are in place.
wait_healthy kube-apiserver "${client[@]}" "$server/readyz"

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$dir/run/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$dir/run/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$dir/run/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --leader-elect=false \
  --controllers='*,bootstrap-signer-controller,token-cleaner-controller,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller' \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  ${BRIDGE_IP:+--allocate-node-cidrs=true --cluster-cidr="$CLUSTER_CIDR" --node-cidr-mask-size="$NODE_CIDR_MASK"} \
  --kube-api-qps=200 --kube-api-burst=400 \
  --profiling=false

start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --config="$dir/run/scheduler.yaml" \
  --authentication-kubeconfig="$dir/run/scheduler.kubeconfig" \
  --authorization-kubeconfig="$dir/run/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --profiling=false

start kwok "$KWOK_BIN/kwok" \
  --kubeconfig="$dir/run/kwok.kubeconfig" --config="$dir/run/kwok.yaml"

# Remember a cluster started without --dir, so a bare `down.sh` (npm run cluster:down) finds it.
if [ -n "$auto_dir" ]; then
  echo "$dir" > "$LAST_CLUSTER_FILE.tmp" 2>/dev/null && mv "$LAST_CLUSTER_FILE.tmp" "$LAST_CLUSTER_FILE" || true
fi

# The controller-manager and scheduler serve a self-signed certificate they make at start.
wait_healthy kube-controller-manager -k "https://127.0.0.1:$KCM_PORT/healthz"
wait_healthy kube-scheduler -k "https://127.0.0.1:$SCHED_PORT/healthz"
wait_healthy kwok "http://127.0.0.1:$KWOK_PORT/healthz"
# Pods need their namespace's default ServiceAccount, which the controller-manager creates.
while ! curl -fsS --max-time 2 "${client[@]}" "$server/api/v1/namespaces/default/serviceaccounts/default" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail kube-controller-manager "the default ServiceAccount was not created within ${timeout_s}s"
  sleep 0.2
done

log "cluster: ready in $(( $(now_ms) - t_start )) ms: kubernetes $KUBERNETES_VERSION at $server, etcd $ETCD_VERSION, kwok $KWOK_VERSION"
log "cluster: export KUBECONFIG=$dir/kubeconfig    # stop: bash cluster/down.sh --dir $dir"
echo "$dir/kubeconfig"
