#!/usr/bin/env bash
# Creates .venv with the pinned third-party AWS clients the interop tests use
# (botocore/boto3 and the AWS CLI v1 from PyPI). Idempotent: does nothing when
# the venv already matches scripts/requirements-interop.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/requirements-interop.txt
stamp=.venv/.tobira-requirements
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
echo "setup-python: .venv ready ($(.venv/bin/python -c 'import botocore; print("botocore", botocore.__version__)'))"
