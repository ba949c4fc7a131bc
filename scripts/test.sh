#!/usr/bin/env bash
# The test command (`npm test`): installs the pinned Python tools, builds or reuses the local
# Kubernetes control plane (cluster/ensure.sh), then runs every *.test.ts with node's test runner.
# Integration tests start their own local clusters through test/support/cluster.ts; when Go or the
# binaries are missing they skip with a printed reason.
#   TENKAI_TEST_FILES="a.test.ts b.test.ts" npm test   # run a subset
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-python.sh
# The tenant-database SQL test runs a throwaway PostgreSQL server (Debian's packages).
if [[ -f scripts/setup-postgres.sh ]]; then bash scripts/setup-postgres.sh; fi
export PATH="$PWD/.venv/bin:$PATH"

if command -v go >/dev/null 2>&1 && [[ -f cluster/ensure.sh ]]; then
  bash cluster/ensure.sh
else
  echo "test: no Go toolchain (or cluster/ensure.sh): integration tests that need a local cluster will skip" >&2
fi

if [[ -n "${TENKAI_TEST_FILES:-}" ]]; then
  read -r -a files <<<"$TENKAI_TEST_FILES"
else
  mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
echo "test: ${#files[@]} test files" >&2
# One file at a time: integration files each run a local control plane and 2 cores are all we have.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
