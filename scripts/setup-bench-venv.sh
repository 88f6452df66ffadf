#!/usr/bin/env bash
# Creates .venv-bench with the pinned tools the benchmarks compare tobira with
# (scripts/requirements-bench.txt). Idempotent: does nothing when the venv
# already matches the file.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/requirements-bench.txt
stamp=.venv-bench/.tobira-requirements
if [ -x .venv-bench/bin/python ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
python3 -m venv .venv-bench
.venv-bench/bin/pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
echo "setup-bench-venv: .venv-bench ready"
