#!/usr/bin/env bash
# A network client outside the cluster's nodes: a network namespace on the cluster's host bridge
# with an extra address of your choice, routed to every real node's pods directly. It stands in
# for what sends traffic to pod IPs from outside the cluster, e.g. an ALB in IP target mode whose
# nodes sit in the public subnets: NetworkPolicy ipBlock rules see that address as the source.
# (No ALB runs here: only its source address and path to the pods are real.)
#
#   client.sh up   --dir DIR --name NAME --address IP    routes to the real nodes that exist now
#   client.sh exec --dir DIR --name NAME -- CMD...       runs CMD in the namespace (e.g. probe http ...)
#   client.sh down --dir DIR --name NAME                 idempotent
#
# cluster/down.sh removes clients too. The probe binary is $TENKAI_CACHE/images/<key>/probe.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/net.sh
. "$cluster_root/lib/net.sh"

cmd="${1:-}"; [ -n "$cmd" ] || { sed -n '2,13p' "$0" >&2; exit 2; }; shift
dir=""; name=""; address=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --address) address="$2"; shift 2 ;;
    --) shift; break ;;
    *) die "client: unknown argument $1" ;;
  esac
done
[ -n "$dir" ] && [ -d "$dir" ] || die "client: --dir DIR must name a cluster directory"
dir="$(cd "$dir" && pwd)"
[[ "$name" =~ ^[a-z0-9][-a-z0-9]{0,20}$ ]] || die "client: --name must be 1-21 lowercase letters, digits or '-'"
[ -f "$dir/net.env" ] || die "client: $dir has no real-node networking"
# shellcheck source=/dev/null
. "$dir/net.env"
cd_="$dir/clients/$name"

client_down() {
  [ -f "$cd_/client.env" ] || return 0
  # shellcheck source=/dev/null
  . "$cd_/client.env"
  local nd
  for nd in "$dir"/nodes/*/; do
    [ -f "$nd/node.env" ] || continue
    # shellcheck source=/dev/null
    ( . "$nd/node.env"; [ -e "/run/netns/$NETNS" ] && nsenter --net="/run/netns/$NETNS" ip route del "$CLIENT_ADDRESS/32" 2>/dev/null || true )
  done
  if [ -e "/run/netns/$CLIENT_NETNS" ]; then ip netns pids "$CLIENT_NETNS" | xargs -r kill -KILL 2>/dev/null || true; fi
  ip link del "$CLIENT_VETH" 2>/dev/null || true
  ip netns del "$CLIENT_NETNS" 2>/dev/null || true
  rm -rf "$cd_"
}

case "$cmd" in
  down) client_down; exit 0 ;;
  exec)
    [ -f "$cd_/client.env" ] || die "client: no client $name in $dir (client.sh up first)"
    # shellcheck source=/dev/null
    . "$cd_/client.env"
    exec nsenter --net="/run/netns/$CLIENT_NETNS" "$@" ;;
  up) ;;
  *) die "client: unknown command $cmd (up, exec, down)" ;;
esac

[[ "$address" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "client: --address IP (IPv4) is required"
client_down
mkdir -p "$dir/nodes" "$cd_"
exec 7>"$dir/nodes/.lock"; flock 7
used=" $(cat "$dir"/nodes/*/node.env "$dir"/clients/*/client.env 2>/dev/null | sed -n 's/^NODE_INDEX=//p' | tr '\n' ' ' || true) "
idx=""
for (( i=254; i>1; i-- )); do case "$used" in *" $i "*) ;; *) idx="$i"; break ;; esac; done
[ -n "$idx" ] || die "client: no free address on $BRIDGE_CIDR"
CLIENT_NETNS="tenkai$NET_INDEX-c-$name"; CLIENT_VETH="tk${NET_INDEX}c$idx"; CLIENT_IP="10.64.$NET_INDEX.$idx"
cat > "$cd_/client.env" <<ENV
NODE_INDEX=$idx
CLIENT_NETNS=$CLIENT_NETNS
CLIENT_VETH=$CLIENT_VETH
CLIENT_IP=$CLIENT_IP
CLIENT_ADDRESS=$address
ENV
flock -u 7; exec 7>&-
ip netns add "$CLIENT_NETNS"
ip link add "$CLIENT_VETH" type veth peer name eth0 netns "$CLIENT_NETNS"
ip link set "$CLIENT_VETH" master "$BRIDGE" up
nsc() { nsenter --net="/run/netns/$CLIENT_NETNS" "$@"; }
nsc ip link set lo up
nsc ip addr add "$CLIENT_IP/24" dev eth0
nsc ip addr add "$address/32" dev lo
nsc ip link set eth0 up
routes=0
for nd in "$dir"/nodes/*/; do
  [ -f "$nd/node.env" ] || continue
  # shellcheck source=/dev/null
  ( . "$nd/node.env"
    [ -n "${POD_CIDR:-}" ] || exit 0
    nsc ip route replace "$POD_CIDR" via "$NODE_IP" src "$address"
    nsenter --net="/run/netns/$NETNS" ip route replace "$address/32" via "$CLIENT_IP" )
  routes=$((routes + 1))
done
log "client: $name at $address (bridge $CLIENT_IP), routed to the pods of $routes node(s)"
printf '{"name":"%s","address":"%s","bridgeAddress":"%s"}\n' "$name" "$address" "$CLIENT_IP"
