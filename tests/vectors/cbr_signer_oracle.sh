#!/usr/bin/env bash
# Regenerate the CBR signer vectors with Huawei's Python SDK core, installed into a venv under
# the project's cache dir ($RAMPART_CACHE/venv as scripts/test sets it, else .cache/venv; or
# $RAMPART_SIGNER_VENV). Writes to $1 (default: the committed vectors file).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${RAMPART_SIGNER_VENV:-${RAMPART_CACHE:-$root/.cache}/venv}"
sdk_version="${RAMPART_SIGNER_SDK_VERSION:-3.1.219}"
if ! "$venv/bin/python" -c "import huaweicloudsdkcore" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "huaweicloudsdkcore==$sdk_version"
fi
"$venv/bin/python" "$here/cbr_signer_vectors.py" "${1:-$here/cbr_signer_vectors.json}"
