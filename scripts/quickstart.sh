#!/usr/bin/env bash
# The main job: build Starling (release), load MovieLens-1M into a fresh service, measure iALS on a
# held-out 20% of its log, train it on all of it and serve it on http://127.0.0.1:8080.
# Datasets come from --data, $STARLING_DATA or ../shared/datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
swift build -c release --product starling
if [ -z "${STARLING_DATA:-}" ] && [ -d ../shared/datasets ]; then export STARLING_DATA=../shared/datasets; fi
exec .build/release/starling quickstart "$@"
