#!/usr/bin/env bash
# The VPC CNI fault behind issue 14, on one real local node (cluster/node.sh): pods that land on the
# node's second address range after churn cannot reach pods on its first range, because the routing
# rule that keeps node-local traffic on the node is missing.
#
#   secondary-range.sh inject --dir DIR --node NAME   new pods of NAME get the second range; the rule is missing
#   secondary-range.sh repair --dir DIR --node NAME   adds the missing rule (pods stay where they are)
#   secondary-range.sh clear  --dir DIR --node NAME   new pods get the first range again; policy routing removed
#   secondary-range.sh show   --dir DIR --node NAME   the node's ranges, rules and tables
#
# How it mirrors the VPC CNI: a pod on a secondary ENI has its own range and a policy rule
# "from <pod> lookup <ENI table>" whose table only knows the way out of the node through that ENI;
# a rule "to <local pods> lookup main" (priority 512) keeps traffic for pods of the same node on the
# node. Here: inject gives the node a second range (10.(131+4K).<node index>.0/24, inside the
# cluster CIDR, on a second bridge cni1 that the CNI bridge plugin makes for pods created from now
# on), the host a route to it through the node, and the node the rule
# "from <second range> iif cni1 lookup 102" with table 102 = "default via the host bridge"; it turns on
# strict reverse-path filtering on the node's eth0. Without the priority-512 rule, a packet from a
# second-range pod to a first-range pod of the same node leaves by eth0, the host routes it back,
# and the node drops it: it arrives on eth0 from an address the node routes to cni1. Across nodes
# nothing changes. `repair` adds "to <first range> lookup main" at 512 and the pairs connect again.
# Pods already running keep their address: the fault shows only for pods created after inject.
#
# Needs root (ip netns, ip rule). Idempotent. Exit 1 naming what is wrong.
set -euo pipefail
# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

usage() { sed -n '2,25p' "$0" >&2; exit 2; }
cmd="${1:-}"; [ -n "$cmd" ] || usage; shift
dir="${TENKAI_CLUSTER_DIR:-}"; node=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --node) node="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) die "secondary-range: unknown argument $1" ;;
  esac
done
case "$cmd" in inject|repair|clear|show) ;; *) usage ;; esac
[ -n "$dir" ] && [ -d "$dir" ] || die "secondary-range: --dir DIR (the directory cluster/up.sh made) is required"
[ -n "$node" ] || die "secondary-range: --node NAME is required"
[ "$(id -u)" = 0 ] || die "secondary-range: needs root (ip netns exec, ip rule)"
nd="$dir/nodes/$node"
[ -f "$nd/node.env" ] || die "secondary-range: $node is not a real node of $dir (no $nd/node.env)"
# shellcheck source=/dev/null
. "$dir/net.env"
# shellcheck source=/dev/null
. "$nd/node.env"
[ -n "${POD_CIDR:-}" ] || die "secondary-range: $node has no pod CIDR yet (is it up?)"
[ -e "/run/netns/$NETNS" ] || die "secondary-range: $node's network namespace $NETNS is gone (is it up?)"
nsx() { nsenter --net="/run/netns/$NETNS" "$@"; }

SECOND="10.$((131 + 4 * NET_INDEX)).$NODE_INDEX.0/24"
TABLE=102
FROM_PREF=1536
TO_PREF=512
conf="$nd/cni/net.d/10-tenkai.conflist"
saved="$nd/faults/10-tenkai.conflist.first"

# containerd reloads the CNI config on write, rename and remove events in its conf_dir and ignores
# create events, which is what a file renamed into the directory makes: write in place.
write_conflist() { # <bridge> <subnet>
  mkdir -p "$nd/faults"
  cat > "$nd/faults/conflist.tmp" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "tenkai",
  "plugins": [
    {
      "type": "bridge", "bridge": "$1", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$2"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$nd/cni/ipam"}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CNI
  cat "$nd/faults/conflist.tmp" > "$conf"
}

del_rules() { # <pref>: every rule at that priority
  while nsx ip rule del pref "$1" 2>/dev/null; do :; done
}

case "$cmd" in
  inject)
    [ -f "$saved" ] || { mkdir -p "$nd/faults"; cp "$conf" "$saved"; }
    ip route replace "$SECOND" via "$NODE_IP" dev "$BRIDGE"
    nsx ip route replace default via "$BRIDGE_IP" dev eth0 table "$TABLE"
    # iif cni1: traffic of the pods only (the VPC CNI writes one rule per pod address); the node's own
    # packets from cni1's gateway address (the kubelet's readiness probes) keep the main table.
    del_rules "$FROM_PREF"; nsx ip rule add from "$SECOND" iif cni1 lookup "$TABLE" pref "$FROM_PREF"
    del_rules "$TO_PREF"
    nsx sysctl -qw net.ipv4.conf.eth0.rp_filter=1
    write_conflist cni1 "$SECOND"
    log "secondary-range: $node: new pods get $SECOND (bridge cni1), first range $POD_CIDR; rule 'to $POD_CIDR lookup main' missing"
    ;;
  repair)
    del_rules "$TO_PREF"; nsx ip rule add to "$POD_CIDR" lookup main pref "$TO_PREF"
    log "secondary-range: $node: rule 'to $POD_CIDR lookup main' (pref $TO_PREF) added"
    ;;
  clear)
    if [ -f "$saved" ]; then cat "$saved" > "$conf"; rm -f "$saved"; fi
    del_rules "$FROM_PREF"; del_rules "$TO_PREF"
    nsx ip route flush table "$TABLE" 2>/dev/null || true
    nsx sysctl -qw net.ipv4.conf.eth0.rp_filter=0
    # The host route and cni1 stay while pods still hold second-range addresses; they route by main now.
    log "secondary-range: $node: new pods get $POD_CIDR again; policy routing for $SECOND removed"
    ;;
  show)
    echo "node $node ($NODE_IP): first range $POD_CIDR, second range $SECOND"
    echo "CNI bridge for new pods: $(sed -n 's/.*"bridge": "\([^"]*\)".*/\1/p' "$conf")"
    echo "rules:"; nsx ip rule show
    echo "table $TABLE:"; nsx ip route show table "$TABLE" || true
    echo "eth0 rp_filter: $(nsx sysctl -n net.ipv4.conf.eth0.rp_filter)"
    ;;
esac
