#!/usr/bin/env bash
# Installs the Debian packages real nodes (cluster/node.sh) need when they are missing: runc (the
# OCI runtime containerd starts), iptables and ipset (kube-proxy, kube-router's NetworkPolicy),
# conntrack (kube-proxy clears stale UDP entries), iproute2, util-linux (nsenter), openssl, curl.
# Versions are those of the machine's Debian release; the installed ones are printed.
#
#   bash cluster/node-deps.sh
#
# Exit 0 when everything is there or was installed, and also when it cannot install (not root,
# no sudo, no apt-get): then it prints what is missing, and real-node tests skip naming it.
set -euo pipefail

declare -A pkg_of=([runc]=runc [iptables]=iptables [ip6tables]=iptables [ipset]=ipset [conntrack]=conntrack
  [ip]=iproute2 [nsenter]=util-linux [openssl]=openssl [curl]=curl)
missing=()
for cmd in "${!pkg_of[@]}"; do command -v "$cmd" >/dev/null || missing+=("${pkg_of[$cmd]}"); done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "node-deps: SKIP: missing ${missing[*]} and not root (no passwordless sudo): real-node tests will be skipped" >&2; exit 0
    fi
  fi
  command -v apt-get >/dev/null || { echo "node-deps: SKIP: missing ${missing[*]} and no apt-get: install them to run real nodes" >&2; exit 0; }
  echo "node-deps: installing ${missing[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    $sudo apt-get update -q >&2
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
fi
if command -v dpkg-query >/dev/null; then
  echo "node-deps: $(dpkg-query -W -f '${Package} ${Version}, ' runc iptables ipset conntrack 2>/dev/null | sed 's/, $//')" >&2
fi
