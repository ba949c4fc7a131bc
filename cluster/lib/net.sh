# Host networking for real nodes, shared by up.sh, node.sh and down.sh. Source it after common.sh.
#
# Each cluster leases an index K (0-31) machine-wide, which gives it address ranges no other
# cluster on this machine uses, so several clusters run side by side:
#   bridge tenkaiK             10.64.K.1/24 on the host; the apiserver listens there
#   node addresses             10.64.K.2 ... 10.64.K.254, one network namespace each
#   cluster CIDR (pods)        10.(128+4K).0.0/14, a /24 per node (controller-manager IPAM)
#   Service CIDR               10.96.0.0/16 (only inside node namespaces: no host routes)
# The lease is a directory $TENKAI_NET_RUN/K holding the cluster directory's path; a lease whose
# cluster runs no process any more is taken over. DIR/net.env records what the cluster got.

TENKAI_NET_RUN="${TENKAI_NET_RUN:-/run/tenkai-net}"
NET_MAX_INDEX=32

# net_capable: can this process make bridges, namespaces and routes (root with ip and iptables)?
net_capable() {
  [ "$(id -u)" = 0 ] && command -v ip >/dev/null && command -v iptables >/dev/null && command -v nsenter >/dev/null
}

# net_missing: names what real nodes need that this machine lacks (empty when nothing).
net_missing() {
  local m=()
  [ "$(id -u)" = 0 ] || m+=("root (network namespaces, bridges, routes and iptables need CAP_NET_ADMIN)")
  local t
  for t in ip iptables ip6tables ipset conntrack nsenter runc; do command -v "$t" >/dev/null || m+=("$t (run: bash cluster/node-deps.sh)"); done
  printf '%s\n' "${m[@]}"
}

# cluster_alive <dir>: any process of that cluster (control plane or node) still running.
cluster_alive() {
  local d="$1" f c
  for f in "$d"/run/*.pid "$d"/nodes/*/run/*.pid; do
    [ -f "$f" ] || continue
    c="$(basename "$f" .pid)"
    pid_alive "$(dirname "$(dirname "$f")")" "$c" && return 0
  done
  return 1
}

# lease_starting <K>: the process that took lease K (up.sh) still runs. Between the lease and the
# control plane's first PID file no cluster process exists yet; without this, a second up.sh in
# that window took the lease as stale and tore down the first cluster's bridge under it.
lease_starting() {
  local f="$TENKAI_NET_RUN/$1/leaser" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "up.sh" || return 1
}

# net_conflicts <K>: the host already has addresses or routes in K's ranges (not ours).
net_conflicts() {
  local k="$1" third=$((128 + 4 * $1))
  ip -4 -o addr show | grep -v " tenkai$k " | grep -qE " inet 10\.64\.$k\." && return 0
  ip -4 route show | grep -v "dev tenkai$k" | grep -qE "^10\.64\.$k\.|^10\.($third|$((third+1))|$((third+2))|$((third+3)))\." && return 0
  return 1
}

# net_write_env <dir> <K>
net_write_env() {
  local dir="$1" k="$2"
  cat > "$dir/net.env.tmp" <<NET
NET_INDEX=$k
BRIDGE=tenkai$k
BRIDGE_CIDR=10.64.$k.0/24
BRIDGE_IP=10.64.$k.1
CLUSTER_CIDR=10.$((128 + 4 * k)).0.0/14
NODE_CIDR_MASK=24
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
FW_CHAIN=TENKAI-$k
NET
  mv "$dir/net.env.tmp" "$dir/net.env"
}

# net_prepare <dir>: lease an index, make the bridge and host rules, write DIR/net.env.
# Reuses the lease DIR already holds. Returns 1 (and writes nothing) when not net_capable.
net_prepare() {
  local dir="$1" k="" owner i
  net_capable || return 1
  mkdir -p "$TENKAI_NET_RUN"
  exec 8>"$TENKAI_NET_RUN/lock"; flock 8
  if [ -f "$dir/net.env" ]; then
    i="$(sed -n 's/^NET_INDEX=//p' "$dir/net.env")"
    if [ -n "$i" ] && [ "$(cat "$TENKAI_NET_RUN/$i/owner" 2>/dev/null)" = "$dir" ]; then k="$i"; fi
  fi
  if [ -z "$k" ]; then
    for (( i=0; i<NET_MAX_INDEX; i++ )); do
      if [ -f "$TENKAI_NET_RUN/$i/owner" ]; then
        owner="$(cat "$TENKAI_NET_RUN/$i/owner")"
        if [ "$owner" != "$dir" ] && [ -d "$owner" ] && { cluster_alive "$owner" || lease_starting "$i"; }; then continue; fi
        # A stale lease: its cluster is gone. Clear what it left on the host.
        net_teardown_index "$i"
      fi
      net_conflicts "$i" && continue
      k="$i"; break
    done
  fi
  if [ -z "$k" ]; then flock -u 8; exec 8>&-; die "no free network index (all $NET_MAX_INDEX leased in $TENKAI_NET_RUN)"; fi
  mkdir -p "$TENKAI_NET_RUN/$k"; echo "$dir" > "$TENKAI_NET_RUN/$k/owner"; echo "$$" > "$TENKAI_NET_RUN/$k/leaser"
  net_write_env "$dir" "$k"
  # shellcheck source=/dev/null
  . "$dir/net.env"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_IP/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  # Pods of one node reach pods of another through the host: node -> host bridge -> route -> node.
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw "net.ipv4.conf.$BRIDGE.send_redirects=0"
  # Our own chain, so the rules are found and removed by name; FORWARD may default to DROP.
  iptables -w -N "$FW_CHAIN" 2>/dev/null || iptables -w -F "$FW_CHAIN"
  iptables -w -A "$FW_CHAIN" -i "$BRIDGE" -j ACCEPT
  iptables -w -A "$FW_CHAIN" -o "$BRIDGE" -j ACCEPT
  iptables -w -C FORWARD -m comment --comment "tenkai $dir" -j "$FW_CHAIN" 2>/dev/null ||
    iptables -w -I FORWARD -m comment --comment "tenkai $dir" -j "$FW_CHAIN"
  # Pods and nodes going anywhere but the cluster leave with the host's address.
  iptables -w -t nat -N "$FW_CHAIN" 2>/dev/null || iptables -w -t nat -F "$FW_CHAIN"
  iptables -w -t nat -A "$FW_CHAIN" -o "$BRIDGE" -j RETURN
  iptables -w -t nat -A "$FW_CHAIN" -d "$CLUSTER_CIDR" -j RETURN
  iptables -w -t nat -A "$FW_CHAIN" -j MASQUERADE
  for src in "$BRIDGE_CIDR" "$CLUSTER_CIDR"; do
    iptables -w -t nat -C POSTROUTING -s "$src" -m comment --comment "tenkai $dir" -j "$FW_CHAIN" 2>/dev/null ||
      iptables -w -t nat -A POSTROUTING -s "$src" -m comment --comment "tenkai $dir" -j "$FW_CHAIN"
  done
  flock -u 8; exec 8>&-
}

# net_teardown_index <K>: remove the bridge, routes and iptables rules of index K, and its lease.
net_teardown_index() {
  local k="$1" chain="TENKAI-$1" third=$((128 + 4 * $1)) rule
  ip link del "tenkai$k" 2>/dev/null || true
  # Routes to node pod CIDRs go via node addresses on the bridge and vanish with it; any left:
  ip -4 route show | grep -E "^10\.($third|$((third+1))|$((third+2))|$((third+3)))\." | while read -r rule; do
    # shellcheck disable=SC2086
    ip route del $rule 2>/dev/null || true
  done || true
  iptables -w -S FORWARD 2>/dev/null | grep -- "-j $chain\$" | sed 's/^-A /-D /' | while read -r rule; do
    # shellcheck disable=SC2086
    eval iptables -w $rule 2>/dev/null || true
  done || true
  iptables -w -t nat -S POSTROUTING 2>/dev/null | grep -- "-j $chain\$" | sed 's/^-A /-D /' | while read -r rule; do
    # shellcheck disable=SC2086
    eval iptables -w -t nat $rule 2>/dev/null || true
  done || true
  iptables -w -F "$chain" 2>/dev/null && iptables -w -X "$chain" 2>/dev/null || true
  iptables -w -t nat -F "$chain" 2>/dev/null && iptables -w -t nat -X "$chain" 2>/dev/null || true
  # Namespaces of nodes whose cluster vanished without node.sh down.
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^tenkai$k-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "${TENKAI_NET_RUN:?}/$k"
}

# net_teardown <dir>: undo net_prepare for the cluster in DIR (no-op without DIR/net.env).
net_teardown() {
  local dir="$1" k
  [ -f "$dir/net.env" ] || return 0
  net_capable || return 0
  k="$(sed -n 's/^NET_INDEX=//p' "$dir/net.env")"
  [ -n "$k" ] || return 0
  mkdir -p "$TENKAI_NET_RUN"
  exec 8>"$TENKAI_NET_RUN/lock"; flock 8
  # Only our own lease: another cluster may have taken the index over after ours was stale.
  local owner; owner="$(cat "$TENKAI_NET_RUN/$k/owner" 2>/dev/null || true)"
  if [ -z "$owner" ] || [ "$owner" = "$dir" ]; then net_teardown_index "$k"; fi
  flock -u 8; exec 8>&-
}
