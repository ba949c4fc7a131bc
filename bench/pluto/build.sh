#!/usr/bin/env bash
# Builds pluto (Fairwinds, github.com/fairwindsops/pluto/v5) at the version go.mod pins (v5.24.0),
# into $TENKAI_CACHE/bin/pluto-<version>/pluto, for bench/upgrade-scan-vs-pluto.ts. Prints the
# binary's path (and does nothing else when it is built already).
#
# How pluto was obtained for the measurement in the README: the Go module proxy refuses the module,
# every version of it:
#
#   $ go mod download -json github.com/fairwindsops/pluto/v5@v5.24.0
#   "Error": "github.com/fairwindsops/pluto/v5@v5.24.0: reading
#     https://proxy.golang.org/github.com/fairwindsops/pluto/v5/@v/v5.24.0.info: 403 Forbidden
#     server response: This module version is not available."
#
# so it is built from the upstream source at the tag v5.24.0 (commit PLUTO_COMMIT below), taken
# from GitHub (github.com/FairwindsOps/pluto) as a git directory and exported at the tag:
#
#   git clone --bare https://github.com/FairwindsOps/pluto pluto.git   # or any copy of that repository
#   mkdir /tmp/pluto-src && git --git-dir=pluto.git archive v5.24.0 | tar -x -C /tmp/pluto-src
#   PLUTO_SRC=/tmp/pluto-src nice -n 10 bash bench/pluto/build.sh
#
# pluto's own dependencies come from the Go module proxy, checked against pluto's go.sum. No
# source of pluto is kept in this repository. Without PLUTO_SRC the script tries the proxy route
# (go.mod's require line), which fails with the 403 above for as long as the proxy refuses it.
#
#   bench/pluto/build.sh                 # from the Go module proxy (go.mod's require line)
#   PLUTO_SRC=DIR bench/pluto/build.sh   # from the upstream source at the tag (see above)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's#^require github.com/fairwindsops/pluto/v5 \(v[0-9.]*\)$#\1#p' "$here/go.mod")"
# The commit the tag v5.24.0 names upstream (git rev-parse v5.24.0^{commit}).
PLUTO_COMMIT=dd5ec8cccce5e42dfe8054b8250baa35546056a0
cache="${TENKAI_CACHE:-$HOME/.cache/tenkai}"
out="$cache/bin/pluto-$version"
if [ -x "$out/pluto" ]; then echo "$out/pluto"; exit 0; fi
export GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$cache/bin"
tmp="$(mktemp -d "$cache/bin/.pluto-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
ldflags="-s -w -X main.version=${version#v} -X main.commit=$PLUTO_COMMIT"
if [ -n "${PLUTO_SRC:-}" ]; then
  src="$(cd "$PLUTO_SRC" && pwd)"
  # The source must be pluto's module, and (when it is a git checkout) the pinned commit.
  if ! grep -qx 'module github.com/fairwindsops/pluto/v5' "$src/go.mod"; then
    echo "build.sh: $src/go.mod is not the module github.com/fairwindsops/pluto/v5" >&2
    exit 2
  fi
  if [ -e "$src/.git" ]; then
    head="$(git -C "$src" rev-parse HEAD)"
    if [ "$head" != "$PLUTO_COMMIT" ]; then
      echo "build.sh: $src is at $head, not $version ($PLUTO_COMMIT): git -C $src checkout $version" >&2
      exit 2
    fi
  fi
  (cd "$src" && GOFLAGS=-mod=readonly GOWORK=off go build -trimpath -ldflags "$ldflags" -o "$tmp/pluto" ./cmd/pluto) >&2
else
  # No go.sum is committed: the proxy must serve the module for one to be made.
  (cd "$here" && GOFLAGS=-mod=mod GOWORK=off go build -trimpath -ldflags "$ldflags" -o "$tmp/pluto" \
    github.com/fairwindsops/pluto/v5/cmd/pluto) >&2
fi
"$tmp/pluto" version >&2
mv "$tmp" "$out"
trap - EXIT
echo "$out/pluto"
