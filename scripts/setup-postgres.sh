#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) when missing, for
# the tenant-database SQL test (src/aws/tenant-database-sql.test.ts), which starts a throwaway
# server in a temp dir. Does not start or enable any system service.
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null; }
if have initdb && have pg_ctl && have psql; then
  echo "setup-postgres: PostgreSQL binaries present" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-postgres: no apt-get; install PostgreSQL (initdb, pg_ctl, psql) another way" >&2
  exit 1
fi
SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
echo "setup-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tail -1)" >&2
