#!/usr/bin/env bash
# Cluster add-ons for real nodes: CoreDNS as pods behind the kube-dns Service (10.96.0.10, which
# every kubelet's clusterDNS names). kube-proxy and the NetworkPolicy agent (kube-router) are not
# add-ons here: cluster/node.sh runs them as processes on each real node. Idempotent.
#
#   cluster/addons.sh --dir DIR [--replicas N] [--no-wait] [--timeout SECONDS]
#
# Waits until CoreDNS is available when the cluster has a real node (cluster/node.sh list), since
# kwok nodes never run it.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

dir="${TENKAI_CLUSTER_DIR:-}"; replicas=2; wait=1; timeout_s=120
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --replicas) replicas="$2"; shift 2 ;;
    --no-wait) wait=""; shift ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "addons: unknown argument $1 (usage: addons.sh --dir DIR [--replicas N] [--no-wait])" ;;
  esac
done
[ -n "$dir" ] && [ -f "$dir/kubeconfig" ] || die "addons: --dir DIR must name a cluster started by cluster/up.sh"
dir="$(cd "$dir" && pwd)"
[ -f "$dir/net.env" ] || die "addons: $dir has no real-node networking (cluster/up.sh as root makes it)"
# shellcheck source=/dev/null
. "$dir/net.env"
# shellcheck source=images/images.env
. "$cluster_root/images/images.env"
kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

# Upstream's CoreDNS manifest (coredns/deployment kubernetes/coredns.yaml.sed), with our image
# and the Service IP the kubelets use.
kubectl apply --server-side --force-conflicts --field-manager=tenkai-cluster -f - >&2 <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        forward . /etc/resolv.conf {
            max_concurrent 1000
        }
        cache 30
        loop
        reload
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: $replicas
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      # Real nodes only: a kwok node would report it Ready without running it.
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: kwok.x-k8s.io/node, operator: DoesNotExist}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector:
                matchLabels: {k8s-app: kube-dns}
              topologyKey: kubernetes.io/hostname
      tolerations:
      - {key: CriticalAddonsOnly, operator: Exists}
      dnsPolicy: Default
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        imagePullPolicy: Never
        args: ["-conf", "/etc/coredns/Corefile"]
        resources:
          limits: {memory: 170Mi}
          requests: {cpu: 50m, memory: 40Mi}
        volumeMounts:
        - {name: config-volume, mountPath: /etc/coredns, readOnly: true}
        ports:
        - {containerPort: 53, name: dns, protocol: UDP}
        - {containerPort: 53, name: dns-tcp, protocol: TCP}
        - {containerPort: 9153, name: metrics, protocol: TCP}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
          readOnlyRootFilesystem: true
        livenessProbe:
          httpGet: {path: /health, port: 8080, scheme: HTTP}
          initialDelaySeconds: 60
          timeoutSeconds: 5
          successThreshold: 1
          failureThreshold: 5
        readinessProbe:
          httpGet: {path: /ready, port: 8181, scheme: HTTP}
          periodSeconds: 2
      volumes:
      - name: config-volume
        configMap:
          name: coredns
          items:
          - {key: Corefile, path: Corefile}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: $DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: metrics, port: 9153, protocol: TCP}
YAML

real_nodes="$(bash "$cluster_root/node.sh" list --dir "$dir" | grep -c '"running":true' || true)"
if [ -n "$wait" ] && [ "$real_nodes" -gt 0 ]; then
  kubectl -n kube-system rollout status deployment/coredns --timeout="${timeout_s}s" >&2 ||
    die "addons: CoreDNS did not become available within ${timeout_s}s (kubectl -n kube-system describe pods -l k8s-app=kube-dns)"
  log "addons: CoreDNS available at $DNS_IP (kube-system/kube-dns)"
else
  log "addons: CoreDNS applied (no real node runs yet: not waiting)"
fi
