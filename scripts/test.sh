#!/usr/bin/env bash
# The test suite. Installs what it needs when missing: OpenBLAS and hiredis (apt), Chromium and
# chromedriver (apt, for the web page tests; a missing browser fails them), redis-server (apt, for
# the Redis tests, which start their own; a missing one fails them) and, for the checkpoint
# interoperability test, Python with numpy and safetensors (a virtual environment in .build/python
# unless the system python3 already has both). Tests read datasets from $STARLING_DATA or
# ../shared/datasets; a missing dataset fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh --python
if python3 -c "import numpy, safetensors" >/dev/null 2>&1; then
  export STARLING_PYTHON="$(command -v python3)"
else
  if [ ! -x .build/python/bin/python ]; then
    mkdir -p .build
    python3 -m venv .build/python
  fi
  .build/python/bin/python -c "import numpy, safetensors" >/dev/null 2>&1 \
    || .build/python/bin/python -m pip install --quiet numpy safetensors
  export STARLING_PYTHON="$PWD/.build/python/bin/python"
fi
if [ -z "${STARLING_DATA:-}" ] && [ -d ../shared/datasets ]; then export STARLING_DATA="$(cd ../shared/datasets && pwd)"; fi
# Release mode: the suite trains real models, which is 10-50x slower in a debug build.
exec swift test -c release "$@"
