#!/usr/bin/env bash
# The main job: build Starling (release), train NeuMF on the NCF MovieLens-1M split, evaluate it
# and print the metrics. Datasets come from --data, $STARLING_DATA or ../shared/datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
swift build -c release --product starling
if [ -z "${STARLING_DATA:-}" ] && [ -d ../shared/datasets ]; then export STARLING_DATA=../shared/datasets; fi
exec .build/release/starling quickstart "$@"
