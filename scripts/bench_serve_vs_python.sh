#!/usr/bin/env bash
# `starling bench serve` with a Python peer in the same run: implicit's ALS behind uvicorn + Starlette
# (scripts/serve_implicit_peer.py, two single-process replicas) gets the same recommend load after Starling's phases.
# Usage: scripts/bench_serve_vs_python.sh [bench serve options, e.g. --seconds 60]  > bench-serve.json
# Needs: swift build -c release; pip install implicit numpy scipy uvicorn starlette.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
python3 scripts/serve_implicit_peer.py ${STARLING_DATA:+--data "$STARLING_DATA"} > "$out" &
peer=$!
trap 'kill $peer 2>/dev/null; pkill -f "serve_implicit_peer:make_app" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 1200); do grep -q "^listening on" "$out" && break; sleep 0.25; done
ports=$(sed -n 's/^listening on //p' "$out")
[ -n "$ports" ] || { echo "the Python peer did not start" >&2; exit 1; }
.build/release/starling bench serve --json "$@" --peer-ports $ports
