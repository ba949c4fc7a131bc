#!/usr/bin/env bash
# Builds pluto (Fairwinds, github.com/fairwindsops/pluto/v5) at the version go.mod pins, into
# $TENKAI_CACHE/bin/pluto-<version>/pluto, for bench/upgrade-scan-vs-pluto.ts. Prints the binary's path.
#
#   bench/pluto/build.sh                 # from the Go module proxy (go.mod's require line)
#   PLUTO_SRC=DIR bench/pluto/build.sh   # from a checkout of that tag (when the proxy does not serve it)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's#^require github.com/fairwindsops/pluto/v5 \(v[0-9.]*\)$#\1#p' "$here/go.mod")"
cache="${TENKAI_CACHE:-$HOME/.cache/tenkai}"
out="$cache/bin/pluto-$version"
if [ -x "$out/pluto" ]; then echo "$out/pluto"; exit 0; fi
export GOTOOLCHAIN=local CGO_ENABLED=0
tmp="$(mktemp -d "$cache/bin/.pluto-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
ldflags="-s -w -X main.version=${version#v}"
if [ -n "${PLUTO_SRC:-}" ]; then
  (cd "$PLUTO_SRC" && go build -trimpath -ldflags "$ldflags" -o "$tmp/pluto" ./cmd/pluto) >&2
else
  # No go.sum is committed: the proxy must serve the module for one to be made.
  (cd "$here" && GOFLAGS=-mod=mod GOWORK=off go build -trimpath -ldflags "$ldflags" -o "$tmp/pluto" \
    github.com/fairwindsops/pluto/v5/cmd/pluto) >&2
fi
mkdir -p "$cache/bin"
mv "$tmp" "$out"
trap - EXIT
echo "$out/pluto"
