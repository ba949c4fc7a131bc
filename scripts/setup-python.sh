#!/usr/bin/env bash
# Creates .venv with the pinned Python test tools (cfn-lint, moto server). Idempotent: reinstalls
# only when requirements-test.txt changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "setup-python: installing requirements-test.txt into $venv" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-test.txt
echo "$want" > "$stamp"
